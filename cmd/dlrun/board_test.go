package main

import (
	"bufio"
	"encoding/json"
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

// board refuses a bad start with one line naming what is at fault,
// before it listens.
func TestBoardRefusesBadStarts(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "absent")
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"board", "--runs", missing}, []string{"--runs: runs folder " + missing + ": no such folder"}},
		{[]string{"board", "--runs", file}, []string{"--runs: runs folder " + file + ": not a folder"}},
		{[]string{"board", "--runs", ""}, []string{"--runs: name the folder"}},
		{[]string{"board", "--runs", dir, "--addr", "127.0.0.1:99999"}, []string{"--addr", "99999"}},
		{[]string{"board", "--runs", dir, "--addr", "nonsense"}, []string{"--addr", "nonsense"}},
		{[]string{"board", "--runs", dir, "runs/x"}, []string{`"runs/x": 'dlrun board' takes flags only`}},
		{[]string{"board", "--run", dir}, []string{"unknown flag --run", "--runs"}},
	} {
		_, err := dlrun(t, c.args...)
		oneLineError(t, strings.Join(c.args, " "), err, c.want...)
	}
}

// dlrun board serves the table of the runs under --runs on 127.0.0.1 by
// default, and SIGTERM stops it with status 0.
func TestBoardServesAndStops(t *testing.T) {
	if testing.Short() {
		t.Skip("builds dlrun")
	}
	dir := t.TempDir()
	if _, err := dlrun(t, "train", "--model", "xor", "--epochs", "5", "--out", filepath.Join(dir, "exp", "xor")); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(buildDlrun(t), "board", "--runs", dir, "--addr", "127.0.0.1:0")
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
		t.Fatalf("board wrote nothing: %v", lines.Err())
	}
	m := regexp.MustCompile(`^board over .* \(1 run\) at (http://127\.0\.0\.1:\d+)/$`).FindStringSubmatch(lines.Text())
	if m == nil {
		t.Fatalf("board's first line: %q", lines.Text())
	}
	resp, err := http.Get(m[1] + "/api/runs")
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		Runs []struct{ ID, Status string }
	}
	err = json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if err != nil || len(body.Runs) != 1 || body.Runs[0].ID != "exp/xor" || body.Runs[0].Status != "finished" {
		t.Errorf("/api/runs: %v %+v", err, body)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("board after SIGTERM: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Error("board still running 10 s after SIGTERM")
	}
}
