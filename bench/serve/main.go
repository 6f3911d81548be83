// Command serve load-tests `dlrun serve`: it starts the server on an image
// classifier's run folder, drives POST /v2/models/{name}/infer with Debian's
// `hey` at each number of concurrent clients for a fixed time (one image
// per request, the Fashion-MNIST test split's first), and prints
// requests/s, p50 and p99 latency, the responses that were not 200, and
// the server's resident memory (VmRSS, read each second) at the first and
// last second of each load. Then, as the ceiling, it calls
// train.Model.Predict in this process on one image at a time for the same
// time (one caller: Model is not safe for concurrent use) and on full
// batches (the batched forward pass that the server's batching
// approaches).
//
//	go run ./bench/serve -run runs/cnn
//	go run ./bench/serve -run runs/cnn -clients 1,8,64 -seconds 10 -batch-wait 2ms
//
// Without -run it trains the cnn for one epoch into a temporary folder.
// It needs hey (apt-get install hey) and builds cmd/dlrun.
//
// With -bombs N it sends image bombs instead (bombs.go):
//
//	go run ./bench/serve -bombs 8            # 8 at once, the server under ulimit -v 4000000
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/dlrun/dlrun/run"
	"github.com/dlrun/dlrun/train"
)

func main() {
	dir := flag.String("run", "", "run folder of an image classifier (default: train the cnn for one epoch)")
	clients := flag.String("clients", "1,8,64", "concurrent clients, one load each")
	seconds := flag.Int("seconds", 10, "duration of each load and of the in-process ceiling")
	wait := flag.String("batch-wait", "", "the server's --batch-wait (default: its own)")
	warmup := flag.Int("warmup", 5, "seconds of load (64 clients) before the measured loads, unreported, for the Go heap to reach its steady size")
	bombs := flag.Int("bombs", 0, "instead of the load test, post this many copies of each image bomb at once (bombs.go)")
	limit := flag.Int64("ulimit", 4000000, "with -bombs: the server's address-space limit in KiB (ulimit -v); 0 for none")
	flag.Parse()
	if err := bench(*dir, *clients, *seconds, *warmup, *wait, *bombs, *limit); err != nil {
		fmt.Fprintln(os.Stderr, "serve:", err)
		os.Exit(1)
	}
}

func bench(dir, clients string, seconds, warmup int, wait string, bombs int, limit int64) error {
	tmp, err := os.MkdirTemp("", "dlrun-serve-bench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "dlrun")
	if out, err := exec.Command("go", "build", "-o", bin, "./cmd/dlrun").CombinedOutput(); err != nil {
		return fmt.Errorf("building dlrun: %v\n%s", err, out)
	}
	if dir == "" {
		dir = filepath.Join(tmp, "cnn")
		fmt.Println("training the cnn for one epoch into", dir)
		if out, err := exec.Command(bin, "train", "--model", "cnn", "--epochs", "1", "--out", dir).CombinedOutput(); err != nil {
			return fmt.Errorf("training: %v\n%s", err, out)
		}
	}
	if bombs > 0 {
		return bombBench(bin, dir, bombs, limit)
	}
	m, err := run.Open(dir, false)
	if err != nil {
		return err
	}
	defer m.Close()
	data, err := m.Data("")
	if err != nil {
		return err
	}
	size := 1
	for _, d := range m.InputShape() {
		size *= d
	}
	test, ok := data.Test.(train.Examples)
	if !ok {
		return fmt.Errorf("run %s: not an image classifier's data", dir)
	}
	image := make([]float32, size)
	test.Example(0, image)
	body, err := json.Marshal(map[string]any{"inputs": []map[string]any{{
		"name": "input", "datatype": "FP32", "shape": append([]int{1}, m.InputShape()...), "data": image}}})
	if err != nil {
		return err
	}
	bodyFile := filepath.Join(tmp, "body.json")
	if err := os.WriteFile(bodyFile, body, 0o644); err != nil {
		return err
	}

	var extra []string
	if wait != "" {
		extra = append(extra, "--batch-wait", wait)
	}
	srv, base, _, err := startServer(bin, dir, 0, extra...)
	if err != nil {
		return err
	}
	defer srv.Process.Kill()
	name := filepath.Base(dir)
	fmt.Printf("dlrun serve --run %s (model %s, batch size %d), %d s per load, one %v image per request\n",
		dir, m.Config.Model, m.Model.Info.BatchSize, seconds, m.InputShape())
	hey := func(c, seconds int) (string, error) {
		out, err := exec.Command("hey", "-z", strconv.Itoa(seconds)+"s", "-c", strconv.Itoa(c), "-m", "POST",
			"-T", "application/json", "-D", bodyFile, base+"/v2/models/"+name+"/infer").CombinedOutput()
		if err != nil {
			return "", fmt.Errorf("hey: %v\n%s", err, out)
		}
		return string(out), nil
	}
	fmt.Printf("server RSS after loading: %.1f MiB\n", rss(srv.Process.Pid))
	if warmup > 0 {
		if _, err := hey(64, warmup); err != nil {
			return err
		}
		fmt.Printf("server RSS after a %d s warm-up at 64 clients: %.1f MiB\n", warmup, rss(srv.Process.Pid))
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "clients\trequests/s\tp50 ms\tp99 ms\tnot 200\tmean batch\tRSS 1st s MiB\tRSS last s MiB\tRSS min-max MiB\t")
	for _, f := range strings.Split(clients, ",") {
		c, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || c < 1 {
			return fmt.Errorf("-clients %q: want positive numbers", clients)
		}
		sum0, n0, err := batchRows(base)
		if err != nil {
			return err
		}
		rss := sampleRSS(srv.Process.Pid)
		out, err := hey(c, seconds)
		samples := rss.stop()
		if err != nil {
			return err
		}
		sum1, n1, err := batchRows(base)
		if err != nil {
			return err
		}
		r, err := parseHey(out)
		if err != nil {
			return err
		}
		lo, hi := slices.Min(samples), slices.Max(samples)
		fmt.Fprintf(tw, "%d\t%.0f\t%.2f\t%.2f\t%d\t%.1f\t%.1f\t%.1f\t%.1f-%.1f\t\n", c, r.rps, r.p50*1e3, r.p99*1e3, r.errors,
			(sum1-sum0)/(n1-n0), samples[0], samples[len(samples)-1], lo, hi)
	}
	tw.Flush()
	if err := srv.Process.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	if err := srv.Wait(); err != nil {
		return fmt.Errorf("the server did not exit 0 on SIGTERM: %v", err)
	}
	fmt.Println("SIGTERM: the server exited 0")

	fmt.Println("\nin process, train.Model.Predict (the ceiling):")
	tw = tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "images per call\tcalls/s\timages/s\tp50 ms\tp99 ms\t")
	for _, n := range []int{1, m.Model.Info.BatchSize} {
		x := make([]float32, 0, n*size)
		for i := 0; i < n; i++ {
			x = append(x, image...)
		}
		var lat []time.Duration
		end := time.Now().Add(time.Duration(seconds) * time.Second)
		for time.Now().Before(end) {
			t0 := time.Now()
			if _, err := m.Model.Predict(x); err != nil {
				return err
			}
			lat = append(lat, time.Since(t0))
		}
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		calls := float64(len(lat)) / float64(seconds)
		fmt.Fprintf(tw, "%d\t%.0f\t%.0f\t%.3f\t%.3f\t\n", n, calls, calls*float64(n),
			ms(lat[len(lat)/2]), ms(lat[len(lat)*99/100]))
	}
	return tw.Flush()
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }

var batchRe = regexp.MustCompile(`(?m)^dlrun_serve_batch_rows_(sum|count)\{[^}]*\} ([0-9.e+]+)$`)

// batchRows returns the sum and count of the server's batch-rows
// histogram (rows per forward call).
func batchRows(base string) (sum, count float64, err error) {
	r, err := http.Get(base + "/metrics")
	if err != nil {
		return 0, 0, err
	}
	defer r.Body.Close()
	var b bytes.Buffer
	if _, err := b.ReadFrom(r.Body); err != nil {
		return 0, 0, err
	}
	for _, m := range batchRe.FindAllStringSubmatch(b.String(), -1) {
		v, _ := strconv.ParseFloat(m[2], 64)
		if m[1] == "sum" {
			sum += v
		} else {
			count += v
		}
	}
	return sum, count, nil
}

// startServer starts `dlrun serve` on run folder dir at a free localhost
// port, with the further flags extra and, if limitKB > 0, under ulimit -v
// limitKB, and waits until it is ready. It returns the process, the base
// URL and the server's output so far.
func startServer(bin, dir string, limitKB int64, extra ...string) (*exec.Cmd, string, *bytes.Buffer, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, "", nil, err
	}
	args := append([]string{"serve", "--run", dir, "--addr", addr}, extra...)
	srv := exec.Command(bin, args...)
	if limitKB > 0 {
		srv = exec.Command("sh", append([]string{"-c", "ulimit -v " + strconv.FormatInt(limitKB, 10) + ` && exec "$0" "$@"`, bin}, args...)...)
	}
	log := &bytes.Buffer{}
	srv.Stderr, srv.Stdout = log, log
	if err := srv.Start(); err != nil {
		return nil, "", nil, err
	}
	base := "http://" + addr
	if err := ready(base + "/v2/health/ready"); err != nil {
		srv.Process.Kill()
		return nil, "", nil, fmt.Errorf("%v; the server said: %s", err, log.String())
	}
	return srv, base, log, nil
}

// freeAddr returns a free localhost port.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// ready waits up to 30 s for url to answer 200.
func ready(url string) error {
	for end := time.Now().Add(30 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if r, err := http.Get(url); err == nil {
			r.Body.Close()
			if r.StatusCode == http.StatusOK {
				return nil
			}
		}
	}
	return fmt.Errorf("%s: no answer in 30 s", url)
}

// rssSampler reads a process's VmRSS every second.
type rssSampler struct {
	done    chan struct{}
	samples chan []float64
}

func sampleRSS(pid int) *rssSampler {
	s := &rssSampler{done: make(chan struct{}), samples: make(chan []float64, 1)}
	go func() {
		var mib []float64
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-s.done:
				mib = append(mib, rss(pid))
				s.samples <- mib
				return
			case <-tick.C:
				mib = append(mib, rss(pid))
			}
		}
	}()
	return s
}

func (s *rssSampler) stop() []float64 {
	close(s.done)
	return <-s.samples
}

// rss returns the VmRSS of process pid in MiB.
func rss(pid int) float64 { return procStatus(pid, "VmRSS:") }

// procStatus returns the "KEY N kB" figure of /proc/pid/status in MiB
// (VmRSS:, VmHWM:), 0 if it cannot be read.
func procStatus(pid int, key string) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == key {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

// heyResult is what hey's summary says.
type heyResult struct {
	rps, p50, p99 float64
	errors        int
}

var (
	rpsRe    = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	p50Re    = regexp.MustCompile(`50%+ in ([0-9.]+) secs`)
	p99Re    = regexp.MustCompile(`99%+ in ([0-9.]+) secs`)
	statusRe = regexp.MustCompile(`\[(\d+)\]\s+(\d+) responses`)
	errorRe  = regexp.MustCompile(`\n\s+\[(\d+)\]\s`)
)

func parseHey(out string) (heyResult, error) {
	var r heyResult
	for _, f := range []struct {
		re  *regexp.Regexp
		dst *float64
	}{{rpsRe, &r.rps}, {p50Re, &r.p50}, {p99Re, &r.p99}} {
		m := f.re.FindStringSubmatch(out)
		if m == nil {
			return r, fmt.Errorf("hey's output lacks %s:\n%s", f.re, out)
		}
		*f.dst, _ = strconv.ParseFloat(m[1], 64)
	}
	for _, m := range statusRe.FindAllStringSubmatch(out, -1) {
		if m[1] != "200" {
			n, _ := strconv.Atoi(m[2])
			r.errors += n
		}
	}
	if i := strings.Index(out, "Error distribution:"); i >= 0 {
		for _, m := range errorRe.FindAllStringSubmatch(out[i:], -1) {
			n, _ := strconv.Atoi(m[1])
			r.errors += n
		}
	}
	return r, nil
}
