//go:build unix

package runner_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dlrun/dlrun/datasets"
	"github.com/dlrun/dlrun/run"
	"github.com/dlrun/dlrun/runner"
	"github.com/dlrun/dlrun/train"
)

// killEpochs is the length of the runs the kill tests kill.
const killEpochs = 4

// killConfig is the run the kill tests kill: a model wide enough (265k
// parameters, a 5 MB checkpoint) that its files take a while to write,
// on xor, so that its epochs take no time.
func killConfig() (run.Config, *run.Data) {
	d := datasets.XOR()
	return run.Config{Model: "../testdata/runs/wide-xor.yaml", Dataset: d.Name,
		Config: train.Config{Epochs: killEpochs, BatchSize: 4, LearningRate: 1e-3}}, run.FromDataset(d)
}

// TestKillChild is the process the kill tests kill: it trains killConfig
// into the folder $DLRUN_KILL_CHILD.
func TestKillChild(t *testing.T) {
	dir := os.Getenv("DLRUN_KILL_CHILD")
	if dir == "" {
		t.Skip("the process that TestKillDuringAWriteResumes kills")
	}
	cfg, d := killConfig()
	if _, err := runner.Train(cfg, runner.Options{Data: d, Out: dir}); err != nil {
		t.Fatal(err)
	}
}

// A run killed (SIGKILL) in the middle of writing one of its files —
// the first checkpoint, the third epoch's checkpoint, the second epoch's
// best weights, the last epoch's weights — leaves whole files and a
// temporary one; resumed (or, without a checkpoint, trained again into the
// same folder), it ends with exactly the metrics and weights of a run
// straight through, and the temporary file is gone.
func TestKillDuringAWriteResumes(t *testing.T) {
	cfg, d := killConfig()
	straight := filepath.Join(t.TempDir(), "straight")
	if _, err := runner.Train(cfg, runner.Options{Data: d, Out: straight}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		file  string
		epoch int // the epoch whose write is cut short
	}{
		{"checkpoint.safetensors", 1},
		{"checkpoint.safetensors", 3},
		{"best.safetensors", 2},
		{"model.safetensors", killEpochs},
	} {
		name := fmt.Sprintf("%s of epoch %d", c.file, c.epoch)
		dir, tmp := killDuringWrite(t, c.file, c.epoch)
		if dir == "" {
			t.Errorf("%s: no kill landed during the write in 5 tries", name)
			continue
		}
		_, err := os.Stat(filepath.Join(dir, "checkpoint.safetensors"))
		if (c.epoch == 1) != os.IsNotExist(err) {
			t.Errorf("%s: checkpoint: %v", name, err)
		}
		if c.epoch == 1 {
			// No epoch saved: a new run may take the folder.
			_, err = runner.Train(cfg, runner.Options{Data: d, Out: dir})
		} else {
			_, err = runner.Resume(dir, runner.Options{Data: d})
		}
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		sameRun(t, straight, dir)
		if _, err := os.Stat(tmp); !os.IsNotExist(err) {
			t.Errorf("%s: %s is left: %v", name, filepath.Base(tmp), err)
		}
	}
}

// killDuringWrite starts the kill child and kills it while it writes file
// for epoch (metrics.csv then holds the epochs before), and returns its
// folder and the temporary file the write left. It stops the child
// (SIGSTOP) as soon as it sees the temporary file, checks that the write
// is still under way and is the one wanted, and then kills it; otherwise
// it lets the child go on, and starts another if the write was missed.
func killDuringWrite(t *testing.T, file string, epoch int) (dir, tmp string) {
	t.Helper()
	for try := 0; try < 5; try++ {
		dir = filepath.Join(t.TempDir(), "killed")
		cmd := exec.Command(os.Args[0], "-test.run=^TestKillChild$")
		cmd.Env = append(os.Environ(), "DLRUN_KILL_CHILD="+dir)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		tmp = watch(cmd.Process, dir, file, epoch)
		if tmp == "" {
			cmd.Process.Kill()
		}
		cmd.Wait()
		if tmp != "" {
			// The write was under way when the process died.
			if _, err := os.Stat(tmp); err == nil {
				return dir, tmp
			}
		}
	}
	return "", ""
}

// watch polls dir until the child p writes file for epoch, then kills p
// there and returns the temporary file; it returns "" when p ends first
// or after a minute.
func watch(p *os.Process, dir, file string, epoch int) string {
	prefix := "." + file + ".tmp-"
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		if p.Signal(syscall.Signal(0)) != nil {
			return ""
		}
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if !strings.HasPrefix(e.Name(), prefix) {
				continue
			}
			p.Signal(syscall.SIGSTOP)
			waitStopped(p.Pid)
			tmp := filepath.Join(dir, e.Name())
			_, err := os.Stat(tmp)
			if err == nil && epochsIn(dir) == epoch-1 {
				p.Kill()
				return tmp
			}
			p.Signal(syscall.SIGCONT)
			break
		}
		time.Sleep(200 * time.Microsecond)
	}
	return ""
}

// waitStopped waits until process pid has stopped, as /proc says (Linux),
// or 20 ms.
func waitStopped(pid int) {
	stat := fmt.Sprintf("/proc/%d/stat", pid)
	for start := time.Now(); time.Since(start) < 20*time.Millisecond; time.Sleep(100 * time.Microsecond) {
		b, err := os.ReadFile(stat)
		if err != nil {
			time.Sleep(20 * time.Millisecond)
			return
		}
		// pid (comm) state ...: comm may hold spaces, the state follows its ')'
		if i := bytes.LastIndexByte(b, ')'); i >= 0 && len(b) > i+2 && (b[i+2] == 'T' || b[i+2] == 't') {
			return
		}
	}
}

// epochsIn returns the number of epochs in dir's metrics.csv.
func epochsIn(dir string) int {
	b, err := os.ReadFile(filepath.Join(dir, "metrics.csv"))
	if err != nil {
		return 0
	}
	return bytes.Count(b, []byte("\n")) - 1
}
