package main

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadLine(t *testing.T) {
	r := bufio.NewReaderSize(strings.NewReader("3\n"+strings.Repeat("x", 5000)+"\r\n4\r\nlast"), 16)
	for _, want := range []struct {
		line string
		long bool
		err  error
	}{{"3", false, nil}, {"", true, nil}, {"4", false, nil}, {"last", false, io.EOF}, {"", false, io.EOF}} {
		line, long, err := readLine(r, 10)
		if line != want.line || long != want.long || err != want.err {
			t.Errorf("readLine = %q, %v, %v; want %q, %v, %v", line, long, err, want.line, want.long, want.err)
		}
	}
}

// eval blames the flag at fault: --data for a dataset the user named,
// --run for the one the run's config.json names.
func TestEvalBlamesWhereTheDatasetCameFrom(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "xor")
	if _, err := dlrun(t, "train", "--model", "xor", "--epochs", "1", "--out", dir); err != nil {
		t.Fatal(err)
	}
	_, err := dlrun(t, "eval", "--run", dir, "--data", filepath.Join(dir, "missing"))
	oneLineError(t, "eval --data missing", err, "--data: ")
	cfg := filepath.Join(dir, "config.json")
	b, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	m["dataset"] = filepath.Join(dir, "gone")
	b, _ = json.Marshal(m)
	os.WriteFile(cfg, b, 0o644)
	_, err = dlrun(t, "eval", "--run", dir)
	if err == nil || strings.HasPrefix(err.Error(), "--data") {
		t.Errorf("eval of a run whose dataset is gone: %v, want an error blaming --run", err)
	}
	if err != nil && !strings.HasPrefix(err.Error(), "--run "+dir) {
		t.Errorf("eval of a run whose dataset is gone: %q, want it to start --run %s", err, dir)
	}
}

// dlrun with no arguments prints the help on stderr and exits 2, as go
// does.
func TestNoArgumentsPrintsHelpAndExits2(t *testing.T) {
	if testing.Short() {
		t.Skip("builds dlrun")
	}
	cmd := exec.Command(buildDlrun(t))
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if e, ok := err.(*exec.ExitError); !ok || e.ExitCode() != 2 {
		t.Errorf("dlrun with no arguments: %v, want exit status 2", err)
	}
	if !strings.Contains(stderr.String(), "Usage:") || !strings.Contains(stderr.String(), "train") || stdout.Len() > 0 {
		t.Errorf("stdout %q, stderr %q; want the help on stderr", stdout.String(), stderr.String())
	}
}
