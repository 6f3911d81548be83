// Command imagebombs sends image bombs to `dlrun serve` as an attacker
// would: PNGs of a few hundred KB whose pixels, all zero, take hundreds of
// MB to decode. It starts the server on an image classifier's run folder
// under an address-space limit (ulimit -v), posts N copies of each bomb at
// once to /v2/models/{name}/predict-image, and prints each load's answers
// by status, its wall time and the server's resident memory (the most
// VmRSS seen, sampled every 20 ms, and VmHWM, the kernel's peak); then it
// checks that the server still answers a normal image with 200.
//
//	go run ./bench/imagebombs                       # 8 at once under ulimit -v 4000000
//	go run ./bench/imagebombs -run runs/cnn -n 16 -ulimit 8000000
//
// The bombs: the 9459×9459 16-bit RGBA PNG of a hostile report (696 KB,
// under MaxImagePixels, 683 MiB to decode), the same in 16-bit gray
// (171 MiB), and a 2800×2800 16-bit RGBA one just under the server's
// default --max-image-bytes (60 MiB), which is decoded: that one shows the
// bound on concurrent decodes. Without -run it trains the mlp for one
// epoch into a temporary folder.
package main

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"flag"
	"fmt"
	"hash/crc32"
	"image"
	"image/png"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

func main() {
	dir := flag.String("run", "", "run folder of an image classifier (default: train the mlp for one epoch)")
	n := flag.Int("n", 8, "bombs sent at once, per kind")
	limit := flag.Int64("ulimit", 4000000, "the server's address-space limit in KiB (ulimit -v); 0 for none")
	flag.Parse()
	if err := bench(*dir, *n, *limit); err != nil {
		fmt.Fprintln(os.Stderr, "imagebombs:", err)
		os.Exit(1)
	}
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

func bench(dir string, n int, limit int64) error {
	tmp, err := os.MkdirTemp("", "dlrun-imagebombs")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "dlrun")
	if out, err := exec.Command("go", "build", "-o", bin, "./cmd/dlrun").CombinedOutput(); err != nil {
		return fmt.Errorf("building dlrun: %v\n%s", err, out)
	}
	if dir == "" {
		dir = filepath.Join(tmp, "mlp")
		if out, err := exec.Command(bin, "train", "--model", "mlp", "--epochs", "1", "--out", dir).CombinedOutput(); err != nil {
			return fmt.Errorf("training: %v\n%s", err, out)
		}
	}
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

	addr, err := freeAddr()
	if err != nil {
		return err
	}
	script := `exec "$0" serve --run "$1" --addr "$2"`
	if limit > 0 {
		script = "ulimit -v " + strconv.FormatInt(limit, 10) + " && " + script
	}
	srv := exec.Command("sh", "-c", script, bin, dir, addr)
	var log bytes.Buffer
	srv.Stderr, srv.Stdout = &log, &log
	if err := srv.Start(); err != nil {
		return err
	}
	defer srv.Process.Kill()
	base := "http://" + addr
	if err := ready(base + "/v2/health/ready"); err != nil {
		return fmt.Errorf("%v; the server said: %s", err, log.String())
	}
	url := base + "/v2/models/" + filepath.Base(dir) + "/predict-image"
	pid := srv.Process.Pid
	fmt.Printf("dlrun serve --run %s under ulimit -v %d; %d bombs at once per kind; RSS after loading %.0f MiB\n",
		dir, limit, n, status(pid, "VmRSS:"))
	fmt.Printf("%-24s %8s %12s %-36s %8s %14s %10s\n", "bomb", "file KB", "decoded MiB", "answers", "wall s", "max RSS MiB", "VmHWM MiB")
	for i, b := range bombs {
		peak, stop := sampleRSS(pid)
		start := time.Now()
		codes := post(url, bodies[i], n)
		wall := time.Since(start)
		stop()
		decoded := float64(b.width*b.height*b.channels()*2) / (1 << 20)
		fmt.Printf("%-24s %8.0f %12.1f %-36s %8.2f %14.0f %10.0f\n", b.name, float64(len(bodies[i]))/1000, decoded, codes, wall.Seconds(), *peak, status(pid, "VmHWM:"))
		if srv.ProcessState != nil || !alive(pid) {
			return fmt.Errorf("the server died; it said: %s", tail(log.String()))
		}
	}
	codes := post(url, normal.Bytes(), 1)
	fmt.Printf("a normal 28x28 PNG afterwards: %s\n", codes)
	if !alive(pid) {
		return fmt.Errorf("the server died; it said: %s", tail(log.String()))
	}
	return nil
}

// post sends body n times at once and returns the answers' statuses,
// counted: "413×8", "200×2 503×6".
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

// sampleRSS samples the VmRSS of process pid every 20 ms until stop is
// called, keeping the most seen in *peak (MiB).
func sampleRSS(pid int) (peak *float64, stop func()) {
	peak = new(float64)
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		for {
			*peak = max(*peak, status(pid, "VmRSS:"))
			select {
			case <-done:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	return peak, func() { close(done); <-finished }
}

// status reads a "Key: N kB" line of /proc/pid/status, in MiB.
func status(pid int, key string) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, key); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				kb, _ := strconv.ParseFloat(f[0], 64)
				return kb / 1024
			}
		}
	}
	return 0
}

func alive(pid int) bool {
	_, err := os.Stat(fmt.Sprintf("/proc/%d/status", pid))
	return err == nil && !strings.Contains(readState(pid), "Z")
}

func readState(pid int) string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "State:"); ok {
			return strings.TrimSpace(rest)
		}
	}
	return ""
}

func tail(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(lines[max(0, len(lines)-5):], "\n")
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func ready(url string) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("the server was not ready within 30 s")
}
