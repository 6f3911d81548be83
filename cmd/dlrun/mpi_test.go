//go:build mpi

package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dlrun/dlrun/run"
)

// The tests of data-parallel training under MPI: built and run
// by .ci/run with `go test -tags mpi ./cmd/dlrun -run MPI`, after
// installing Debian's openmpi-bin and libopenmpi-dev. Each starts
// `mpirun -np N dlrun train` of the mlp on the bundled data.

// mpiDlrun builds dlrun with the mpi tag once.
var mpiDlrun string

func buildMPI(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("mpirun"); err != nil {
		t.Fatal("mpirun is not installed (apt-get install openmpi-bin libopenmpi-dev)")
	}
	if mpiDlrun != "" {
		return mpiDlrun
	}
	dir, err := os.MkdirTemp("", "dlrun-mpi-bin-")
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "dlrun")
	if out, err := exec.Command("go", "build", "-tags", "mpi", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("building dlrun -tags mpi: %v\n%s", err, out)
	}
	mpiDlrun = bin
	return bin
}

// mpirun returns the command mpirun -np n dlrun args..., run in dir, with
// extra environment variables passed to every process.
func mpirun(t *testing.T, dir string, n int, env []string, args ...string) *exec.Cmd {
	t.Helper()
	cmdArgs := []string{"--oversubscribe", "-np", strconv.Itoa(n)}
	if os.Geteuid() == 0 {
		cmdArgs = append([]string{"--allow-run-as-root"}, cmdArgs...)
	}
	for _, e := range env {
		name, _, _ := strings.Cut(e, "=")
		cmdArgs = append(cmdArgs, "-x", name)
	}
	cmd := exec.Command("mpirun", append(append(cmdArgs, buildMPI(t)), args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	return cmd
}

func fileHash(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", sha256.Sum256(b))
}

// trainLosses returns the train_loss column of a run's metrics.csv.
func trainLosses(t *testing.T, dir string) []float64 {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "metrics.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var out []float64
	for _, r := range rows[1:] {
		v, err := strconv.ParseFloat(r[1], 64)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

// listDir returns the names in dir.
func listDir(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

// Two processes train one model into one
// folder (rank 0's; the other writes nothing), twice the same bits; one
// process under mpirun gives the plain build's bits; two follow one
// process's loss curve closely.
func TestMPITrainingIsReproducible(t *testing.T) {
	work := t.TempDir()
	train := func(n int, out string) {
		t.Helper()
		cmd := mpirun(t, work, n, nil, "train", "--model", "mlp", "--epochs", "2", "--out", out)
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("mpirun -np %d: %v\n%s", n, err, b)
		}
	}
	train(2, "a")
	train(2, "b")
	train(1, "one")
	plain := filepath.Join(work, "plain")
	if b, err := exec.Command(buildDlrun(t), "train", "--model", "mlp", "--epochs", "2", "--out", plain).CombinedOutput(); err != nil {
		t.Fatalf("plain build: %v\n%s", err, b)
	}
	if got := listDir(t, work); strings.Join(got, " ") != "a b one plain" {
		t.Errorf("the working folder holds %v: a follower wrote something", got)
	}
	ha, hb := fileHash(t, filepath.Join(work, "a", "model.safetensors")), fileHash(t, filepath.Join(work, "b", "model.safetensors"))
	if ha != hb {
		t.Errorf("two runs of 2 processes: weights %s and %s", ha, hb)
	}
	h1, hp := fileHash(t, filepath.Join(work, "one", "model.safetensors")), fileHash(t, filepath.Join(plain, "model.safetensors"))
	if h1 != hp {
		t.Errorf("1 process under mpirun: weights %s, the plain build's %s", h1, hp)
	}
	two, one := trainLosses(t, filepath.Join(work, "a")), trainLosses(t, plain)
	worst := 0.0
	for i := range one {
		worst = math.Max(worst, math.Abs(two[i]-one[i])/one[i])
	}
	if worst > 1e-4 {
		t.Errorf("2 processes' train losses %v differ from 1's %v by up to %.3g relative, more than 1e-4", two, one, worst)
	}
	t.Logf("2 processes twice: %s; 1 process under mpirun and the plain build: %s; train loss 2 vs 1 process: largest relative difference %.2g", ha[:16], h1[:16], worst)
}

// rankPID returns the PID of the process of rank rank among the processes
// whose environment holds marker, or 0.
func rankPID(marker string, rank int) int {
	procs, _ := filepath.Glob("/proc/[0-9]*/environ")
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		env := bytes.Split(b, []byte{0})
		has := func(s string) bool {
			for _, e := range env {
				if string(e) == s {
					return true
				}
			}
			return false
		}
		if has(marker) && has("OMPI_COMM_WORLD_RANK="+strconv.Itoa(rank)) {
			pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(p)))
			return pid
		}
	}
	return 0
}

// Point 4: a rank killed during training makes every process exit
// non-zero, mpirun naming the rank; the last checkpoint loads, and
// --resume continues to the bits of a run that was never killed. A rank
// that hangs (stopped) makes the others give up within DLRUN_MPI_TIMEOUT.
func TestMPIFaults(t *testing.T) {
	work := t.TempDir()
	marker := fmt.Sprintf("DLRUN_MPI_TEST=%d", time.Now().UnixNano())
	killed := filepath.Join(work, "killed")
	cmd := mpirun(t, work, 2, []string{marker}, "train", "--model", "mlp", "--epochs", "40", "--out", killed)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	// Kill rank 1 once the second epoch is saved.
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("no second epoch within 2 minutes:\n%s", out.String())
		}
		if rows, err := os.ReadFile(filepath.Join(killed, "metrics.csv")); err == nil && bytes.Count(rows, []byte("\n")) >= 3 {
			break
		}
	}
	pid := rankPID(marker, 1)
	if pid == 0 {
		t.Fatal("rank 1's process not found")
	}
	if p, err := os.FindProcess(pid); err != nil || p.Kill() != nil {
		t.Fatalf("killing rank 1 (PID %d): %v", pid, err)
	}
	select {
	case err := <-done:
		if err == nil {
			t.Fatalf("mpirun exited 0 after rank 1 was killed:\n%s", out.String())
		}
		if !strings.Contains(out.String(), "rank 1") {
			t.Errorf("mpirun's output does not name rank 1:\n%s", out.String())
		}
	case <-time.After(time.Minute):
		cmd.Process.Kill()
		t.Fatalf("mpirun still running a minute after rank 1 was killed:\n%s", out.String())
	}
	if rankPID(marker, 0) != 0 {
		t.Error("rank 0 still runs after rank 1 was killed")
	}
	m, err := run.Open(killed, false)
	if err != nil {
		t.Fatalf("the killed run's folder does not load: %v", err)
	}
	m.Close()
	saved := len(trainLosses(t, killed))
	t.Logf("rank 1 killed after %d saved epochs: mpirun %v, and said %q", saved, cmd.ProcessState, lastLine(out.String(), "rank 1"))

	// Resume to saved+2 epochs; a run straight through to the same epoch
	// has the same bits.
	target := strconv.Itoa(saved + 2)
	if b, err := mpirun(t, work, 2, nil, "train", "--resume", killed, "--epochs", target).CombinedOutput(); err != nil {
		t.Fatalf("resuming: %v\n%s", err, b)
	}
	straight := filepath.Join(work, "straight")
	if b, err := mpirun(t, work, 2, nil, "train", "--model", "mlp", "--epochs", target, "--out", straight).CombinedOutput(); err != nil {
		t.Fatalf("a straight run: %v\n%s", err, b)
	}
	if a, b := fileHash(t, filepath.Join(killed, "model.safetensors")), fileHash(t, filepath.Join(straight, "model.safetensors")); a != b {
		t.Errorf("killed at epoch %d and resumed to %s: weights %s, straight %s", saved, target, a, b)
	}

	// A rank that stops answering: the other gives up.
	hung := mpirun(t, work, 2, []string{marker, "DLRUN_MPI_TIMEOUT=2s"}, "train", "--model", "mlp", "--epochs", "40", "--out", filepath.Join(work, "hung"))
	var hout bytes.Buffer
	hung.Stdout, hung.Stderr = &hout, &hout
	if err := hung.Start(); err != nil {
		t.Fatal(err)
	}
	hdone := make(chan error, 1)
	go func() { hdone <- hung.Wait() }()
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			hung.Process.Kill()
			t.Fatalf("no epoch within 2 minutes:\n%s", hout.String())
		}
		if _, err := os.Stat(filepath.Join(work, "hung", "metrics.csv")); err == nil {
			break
		}
	}
	pid = rankPID(marker, 1)
	p, _ := os.FindProcess(pid)
	if pid == 0 || p.Signal(stopSignal) != nil {
		t.Fatalf("stopping rank 1 (PID %d)", pid)
	}
	defer p.Kill()
	select {
	case err := <-hdone:
		if err == nil || !strings.Contains(hout.String(), "rank 0 of 2: no answer from the other processes within 2s") {
			t.Errorf("a hung rank 1: mpirun %v, said:\n%s", err, hout.String())
		}
	case <-time.After(time.Minute):
		hung.Process.Kill()
		t.Fatalf("mpirun still running a minute after rank 1 stopped:\n%s", hout.String())
	}
}

// lastLine returns the last line of s that holds sub.
func lastLine(s, sub string) string {
	lines := strings.Split(s, "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.Contains(lines[i], sub) {
			return strings.TrimSpace(lines[i])
		}
	}
	return ""
}
