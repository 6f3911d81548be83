package main

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Ctrl-C (SIGINT) or SIGTERM during training prints the line of the last
// saved epoch, says on stderr what was saved and how to continue, and
// exits with 130 or 143.
func TestStopSaysHowToContinue(t *testing.T) {
	if testing.Short() {
		t.Skip("builds dlrun")
	}
	bin := buildDlrun(t)
	for _, c := range []struct {
		sig  syscall.Signal
		code int
	}{{syscall.SIGINT, 130}, {syscall.SIGTERM, 143}} {
		dir := filepath.Join(t.TempDir(), "run dir")
		cmd := exec.Command(bin, "train", "--model", "mlp", "--epochs", "1000", "--out", dir)
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(2 * time.Minute)
		for {
			if _, err := os.Stat(filepath.Join(dir, "checkpoint.safetensors")); err == nil {
				break
			}
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				t.Fatal("no checkpoint within two minutes")
			}
			time.Sleep(5 * time.Millisecond)
		}
		cmd.Process.Signal(c.sig)
		err := cmd.Wait()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != c.code {
			t.Errorf("%v: %v, want exit status %d", c.sig, err, c.code)
		}
		line := strings.TrimSpace(stderr.String())
		epoch, err := checkpointEpochOf(dir)
		if err != nil {
			t.Fatal(err)
		}
		want := "dlrun: stopped after epoch " + epoch + " (checkpoint saved); continue with: dlrun train --resume '" + dir + "'"
		if line != want {
			t.Errorf("%v: stderr %q\nwant %q", c.sig, line, want)
		}
		// The saved epoch's line is printed, though the log of 1000
		// epochs shows only every 50th.
		if !regexp.MustCompile(`(?m)^epoch +` + epoch + `/1000 `).MatchString(stdout.String()) {
			t.Errorf("%v: stdout lacks the line of epoch %s, the one saved:\n%s", c.sig, epoch, stdout.String())
		}
	}
}

// checkpointEpochOf reads the epoch that the checkpoint of run folder dir
// holds, from its safetensors metadata.
func checkpointEpochOf(dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, "checkpoint.safetensors"))
	if err != nil {
		return "", err
	}
	if len(b) < 8 {
		return "", errors.New("checkpoint too short")
	}
	n := binary.LittleEndian.Uint64(b)
	if n > uint64(len(b)-8) {
		return "", errors.New("checkpoint header past the file")
	}
	var h struct {
		Meta map[string]string `json:"__metadata__"`
	}
	if err := json.Unmarshal(b[8:8+n], &h); err != nil {
		return "", err
	}
	return h.Meta["epoch"], nil
}
