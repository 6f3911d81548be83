package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// serve refuses a bad start with one line naming what is at fault,
// before it listens.
func TestServeRefusesBadStarts(t *testing.T) {
	mlp := filepath.Join(t.TempDir(), "mlp")
	if _, err := dlrun(t, "train", "--model", "mlp", "--data", smallFashion(t, 10), "--epochs", "1", "--out", mlp); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(t.TempDir(), "mlp")
	if err := os.Mkdir(other, 0o755); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(t.TempDir(), "absent")
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"serve"}, []string{"--run: name the run folder"}},
		{[]string{"serve", "--run", missing}, []string{"--run", missing}},
		{[]string{"serve", "--run", mlp, "--run", other}, []string{"--run", mlp, other, "are both named mlp"}},
		{[]string{"serve", "--run", mlp, "--timeout", "0s"}, []string{"--timeout 0s: must be positive"}},
		{[]string{"serve", "--run", mlp, "--batch-wait", "-1ms"}, []string{"--batch-wait -1ms: must not be negative"}},
		{[]string{"serve", "--run", mlp, "--max-body", "0"}, []string{"--max-body 0: must be positive"}},
		{[]string{"serve", "--run", mlp, "--batch-wait", "2"}, []string{"--batch-wait 2: invalid argument, want a duration such as 2ms or 30s"}},
		{[]string{"serve", "--run", mlp, "--addr", "127.0.0.1:99999"}, []string{"--addr", "99999"}},
		{[]string{"serve", "--run", mlp, "runs/x"}, []string{`"runs/x": 'dlrun serve' takes flags only`}},
	} {
		_, err := dlrun(t, c.args...)
		oneLineError(t, strings.Join(c.args, " "), err, c.want...)
	}
}

// SIGTERM stops the server gracefully: a request in flight when it comes
// is answered, then the process exits with status 0.
func TestServeStopsGracefullyOnSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("builds dlrun")
	}
	mlp := filepath.Join(t.TempDir(), "mlp")
	if _, err := dlrun(t, "train", "--model", "mlp", "--data", smallFashion(t, 10), "--epochs", "1", "--out", mlp); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(buildDlrun(t), "serve", "--run", mlp, "--addr", "127.0.0.1:0")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := bufio.NewScanner(stderr)
	if !lines.Scan() {
		t.Fatalf("serve wrote nothing: %v", lines.Err())
	}
	first := lines.Text()
	m := regexp.MustCompile(`^serving mlp \(classify, input \[1 28 28\]\) at (http://127\.0\.0\.1:\d+)$`).FindStringSubmatch(first)
	if m == nil {
		t.Fatalf("serve's first line: %q", first)
	}
	base := m[1]
	var log strings.Builder
	logged := make(chan struct{})
	go func() {
		for lines.Scan() {
			log.WriteString(lines.Text() + "\n")
		}
		close(logged)
	}()

	type answer struct {
		code int
		body string
		err  error
	}
	// The request's body is sent in two halves, the second only after
	// SIGTERM: the request is in flight, half read, as the server starts
	// to shut down.
	body := fmt.Sprintf(`{"inputs":[{"name":"input","shape":[1,1,28,28],"datatype":"FP32","data":[%s0]}]}`, strings.Repeat("0.5,", 783))
	pr, pw := io.Pipe()
	answered := make(chan answer, 1)
	go func() {
		resp, err := http.Post(base+"/v2/models/mlp/infer", "application/json", pr)
		if err != nil {
			answered <- answer{err: err}
			return
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		answered <- answer{resp.StatusCode, string(b), err}
	}()
	if _, err := pw.Write([]byte(body[:len(body)/2])); err != nil {
		t.Fatal(err)
	}
	// Wait until the request is in flight (the metrics say so), then
	// send SIGTERM.
	inFlight := regexp.MustCompile(`(?m)^dlrun_serve_requests_in_flight\{endpoint="infer"\} 1$`)
	for deadline := time.Now().Add(time.Minute); ; {
		if time.Now().After(deadline) {
			t.Fatal("the request never showed in flight")
		}
		resp, err := http.Get(base + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if inFlight.Match(b) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	sent := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // shutting down, the request half read
	if _, err := pw.Write([]byte(body[len(body)/2:])); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	a := <-answered
	if a.err != nil || a.code != http.StatusOK {
		t.Fatalf("the request in flight at SIGTERM: %d %s %v", a.code, a.body, a.err)
	}
	var resp struct {
		Outputs []struct {
			Name string          `json:"name"`
			Data json.RawMessage `json:"data"`
		} `json:"outputs"`
	}
	var probs []float32
	if err := json.Unmarshal([]byte(a.body), &resp); err != nil || len(resp.Outputs) != 2 || resp.Outputs[0].Name != "probabilities" ||
		json.Unmarshal(resp.Outputs[0].Data, &probs) != nil || len(probs) != 10 {
		t.Errorf("the answer: %s (%v)", a.body, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		<-logged
		if err != nil {
			t.Errorf("serve exited with %v after SIGTERM, want status 0; stderr:\n%s%s", err, first, log.String())
		}
	case <-time.After(time.Minute):
		t.Fatal("serve did not exit within a minute of SIGTERM")
	}
	if !strings.Contains(log.String(), "shutting down") {
		t.Errorf("stderr lacks the shutdown line:\n%s", log.String())
	}
	// Nothing listens any more.
	if _, err := http.Get(base + "/v2/health/live"); err == nil {
		t.Error("the server still answers after exiting")
	}
	t.Logf("SIGTERM to exit with the request answered: %v", time.Since(sent))
}
