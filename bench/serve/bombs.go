package main

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image"
	"image/png"
	"io"
	"net/http"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// bombBench sends image bombs to `dlrun serve` as an attacker would: PNGs
// of a few hundred KB whose pixels, all zero, take hundreds of MB to
// decode. It starts the server on image classifier dir under ulimit -v
// limitKB, posts n copies of each bomb at once to predict-image, and
// prints each load's answers by status, its wall time and the server's
// resident memory (the most VmRSS seen, sampled every 20 ms, and VmHWM,
// the kernel's peak); then it checks that the server still answers a
// normal image with 200.
//
// The bombs: the 9459×9459 16-bit RGBA PNG of a hostile report (696 KB,
// under MaxImagePixels, 683 MiB to decode), the same in 16-bit gray (171
// MiB), and a 2800×2800 16-bit RGBA one just under the server's default
// --max-image-bytes (60 MiB), which is decoded: that one shows the bound
// on concurrent decodes.
func bombBench(bin, dir string, n int, limitKB int64) error {
	bombs := []bomb{
		{"9459x9459 16-bit RGBA", 9459, 9459, 6},
		{"9459x9459 16-bit gray", 9459, 9459, 0},
		{"2800x2800 16-bit RGBA", 2800, 2800, 6},
	}
	bodies := make([][]byte, len(bombs))
	for i, b := range bombs {
		var buf bytes.Buffer
		if err := b.write(&buf); err != nil {
			return err
		}
		bodies[i] = buf.Bytes()
	}
	var normal bytes.Buffer
	png.Encode(&normal, image.NewGray(image.Rect(0, 0, 28, 28)))

	srv, base, log, err := startServer(bin, dir, limitKB)
	if err != nil {
		return err
	}
	defer srv.Process.Kill()
	url := base + "/v2/models/" + filepath.Base(dir) + "/predict-image"
	pid := srv.Process.Pid
	fmt.Printf("dlrun serve --run %s under ulimit -v %d; %d bombs at once per kind; RSS after loading %.0f MiB\n",
		dir, limitKB, n, rss(pid))
	fmt.Printf("%-24s %8s %12s %-36s %8s %14s %10s\n", "bomb", "file KB", "decoded MiB", "answers", "wall s", "max RSS MiB", "VmHWM MiB")
	for i, b := range bombs {
		peak, stop := samplePeak(pid)
		start := time.Now()
		codes := post(url, bodies[i], n)
		wall := time.Since(start)
		stop()
		decoded := float64(b.width*b.height*b.channels()*2) / (1 << 20)
		fmt.Printf("%-24s %8.0f %12.1f %-36s %8.2f %14.0f %10.0f\n", b.name, float64(len(bodies[i]))/1000, decoded, codes, wall.Seconds(), *peak, procStatus(pid, "VmHWM:"))
		if procStatus(pid, "VmRSS:") == 0 {
			return fmt.Errorf("the server died; it said: %s", log.String())
		}
	}
	fmt.Printf("a normal 28x28 PNG afterwards: %s\n", post(url, normal.Bytes(), 1))
	return nil
}

// bomb is a PNG of all-zero pixels: width × height at 16 bits a sample,
// with color type ct (0 gray, 6 RGBA).
type bomb struct {
	name          string
	width, height int
	ct            byte
}

func (b bomb) channels() int {
	if b.ct == 6 {
		return 4
	}
	return 1
}

// write writes the PNG, compressing a row at a time.
func (b bomb) write(w io.Writer) error {
	bw := bufio.NewWriter(w)
	bw.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		binary.Write(bw, binary.BigEndian, uint32(len(data)))
		c := crc32.NewIEEE()
		c.Write([]byte(typ))
		c.Write(data)
		bw.WriteString(typ)
		bw.Write(data)
		binary.Write(bw, binary.BigEndian, c.Sum32())
	}
	ihdr := binary.BigEndian.AppendUint32(nil, uint32(b.width))
	ihdr = binary.BigEndian.AppendUint32(ihdr, uint32(b.height))
	chunk("IHDR", append(ihdr, 16, b.ct, 0, 0, 0))
	var idat bytes.Buffer
	z, _ := zlib.NewWriterLevel(&idat, zlib.BestCompression)
	row := make([]byte, 1+b.width*b.channels()*2) // filter byte 0, then zeros
	for range b.height {
		z.Write(row)
	}
	z.Close()
	for data := idat.Bytes(); len(data) > 0; {
		k := min(len(data), 1<<20)
		chunk("IDAT", data[:k])
		data = data[k:]
	}
	chunk("IEND", nil)
	return bw.Flush()
}

// post sends body n times at once as image/png and returns the answers'
// statuses, counted: "413×8", "200×2 503×6".
func post(url string, body []byte, n int) string {
	var mu sync.Mutex
	count := map[string]int{}
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code := "error"
			resp, err := http.Post(url, "image/png", bytes.NewReader(body))
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				code = strconv.Itoa(resp.StatusCode)
			}
			mu.Lock()
			count[code]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	var parts []string
	for c, k := range count {
		parts = append(parts, fmt.Sprintf("%s×%d", c, k))
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

// samplePeak samples the VmRSS of process pid every 20 ms until stop is
// called, keeping the most seen in *peak (MiB).
func samplePeak(pid int) (peak *float64, stop func()) {
	peak = new(float64)
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		for {
			*peak = max(*peak, rss(pid))
			select {
			case <-done:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	return peak, func() { close(done); <-finished }
}
