// Package torchref runs the PyTorch reference scripts (bench/torch_ref.py,
// bench/rl_ref.py) the one way that bench/compare, bench/infer and
// experiments/reproduce share: in an environment whose OpenBLAS core type
// is chosen from the CPU's features (CoreType), and, when a run dies,
// with an error that names the signal and what it means (RunError).
package torchref

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/cpu"
)

// SkylakeX is the OpenBLAS core type forced on CPUs with AVX-512.
const SkylakeX = "SkylakeX"

// CoreType returns the OPENBLAS_CORETYPE that the reference runs get:
// one already in the environment is kept (OPENBLAS_CORETYPE=Haswell holds
// PyTorch to AVX2 for a like-for-like comparison with dlrun's AVX2 path);
// otherwise SkylakeX where the CPU has AVX-512 F, BW, DQ and VL, the set
// OpenBLAS's SkylakeX kernels use (Debian's OpenBLAS picks slower ones on
// some virtual machines that hide the CPU's model); and otherwise "",
// which leaves OpenBLAS to choose from the CPU it detects (Haswell's
// kernels on AVX2 CPUs, Zen's on AMD), so that no kernel needs an
// instruction the CPU lacks. Forcing SkylakeX on a CPU without AVX-512 (an
// AMD Zen 3, say) kills every run with SIGILL.
func CoreType() string {
	if t, ok := os.LookupEnv("OPENBLAS_CORETYPE"); ok {
		return t
	}
	if hasAVX512() {
		return SkylakeX
	}
	return ""
}

// hasAVX512 reports whether the CPU runs OpenBLAS's SkylakeX kernels; a
// variable so that tests can play other CPUs.
var hasAVX512 = func() bool {
	return cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512DQ && cpu.X86.HasAVX512VL
}

// Setting describes CoreType for a report: "OPENBLAS_CORETYPE=SkylakeX",
// or "OpenBLAS's own choice of core type".
func Setting() string {
	if t := CoreType(); t != "" {
		return "OPENBLAS_CORETYPE=" + t
	}
	return "OpenBLAS's own choice of core type"
}

// Env returns the environment of a reference run with blasThreads
// OpenBLAS threads: this process's, OPENBLAS_CORETYPE as CoreType says,
// OPENBLAS_NUM_THREADS and unbuffered Python output.
func Env(blasThreads int) []string {
	env := os.Environ()
	if t := CoreType(); t != "" {
		env = append(env, "OPENBLAS_CORETYPE="+t)
	}
	return append(env, "OPENBLAS_NUM_THREADS="+strconv.Itoa(max(blasThreads, 1)), "PYTHONUNBUFFERED=1")
}

// Run runs python with args (a reference script and its flags) in Env's
// environment and returns what it wrote on stdout. Its stderr goes to
// stderr as it comes (nil: nowhere), and its last lines are kept for the
// error: a *RunError when the run exits with a failure or is killed.
func Run(python string, args []string, blasThreads int, stderr io.Writer) ([]byte, error) {
	cmd := exec.Command(python, args...)
	cmd.Env = Env(blasThreads)
	tail := &tailWriter{max: 2 << 10}
	if stderr != nil {
		cmd.Stderr = io.MultiWriter(stderr, tail)
	} else {
		cmd.Stderr = tail
	}
	out, err := cmd.Output()
	if err != nil {
		return out, failed(err, tail.String())
	}
	return out, nil
}

// RunError is the failure of a reference run: the signal that killed it
// (0 if none) or its exit status, and the last line it wrote on stderr.
type RunError struct {
	Signal   syscall.Signal
	Status   int
	Stderr   string // its last line
	CoreType string // the OPENBLAS_CORETYPE it ran under, "" for none
	Err      error  // the error of exec
}

// Error says how the run ended and what that means, on one line.
func (e *RunError) Error() string {
	var msg string
	switch {
	case e.Signal == syscall.SIGILL:
		msg = "killed by SIGILL (illegal instruction): a library ran an instruction this CPU lacks"
		if e.CoreType != "" {
			msg += fmt.Sprintf(" (it ran under OPENBLAS_CORETYPE=%s; unset it, or set the core type of this CPU)", e.CoreType)
		}
	case e.Signal == syscall.SIGKILL:
		msg = "killed by SIGKILL: most often the kernel's out-of-memory killer (see dmesg)"
	case e.Signal == syscall.SIGSEGV || e.Signal == syscall.SIGBUS:
		msg = fmt.Sprintf("crashed with %s (%s)", signalName(e.Signal), e.Signal)
	case e.Signal != 0:
		msg = fmt.Sprintf("killed by %s (%s)", signalName(e.Signal), e.Signal)
	default:
		msg = fmt.Sprintf("exited with status %d", e.Status)
	}
	if e.Stderr != "" {
		msg += ": " + e.Stderr
	}
	return msg
}

// Unwrap returns exec's error.
func (e *RunError) Unwrap() error { return e.Err }

// failed returns the error of a run that ended with err, having written
// stderr.
func failed(err error, stderr string) error {
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		return err
	}
	e := &RunError{Status: exit.ExitCode(), Stderr: lastLine(stderr), CoreType: CoreType(), Err: err}
	if ws, ok := exit.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		e.Signal = ws.Signal()
	}
	return e
}

// signalName returns SIGILL's kind of name for sig.
func signalName(sig syscall.Signal) string {
	names := map[syscall.Signal]string{syscall.SIGILL: "SIGILL", syscall.SIGKILL: "SIGKILL", syscall.SIGSEGV: "SIGSEGV",
		syscall.SIGBUS: "SIGBUS", syscall.SIGABRT: "SIGABRT", syscall.SIGTERM: "SIGTERM", syscall.SIGINT: "SIGINT", syscall.SIGFPE: "SIGFPE"}
	if n, ok := names[sig]; ok {
		return n
	}
	return "signal " + strconv.Itoa(int(sig))
}

// lastLine returns the last line of s that is not blank.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// tailWriter keeps the last max bytes written to it.
type tailWriter struct {
	max int
	b   bytes.Buffer
}

func (t *tailWriter) Write(p []byte) (int, error) {
	t.b.Write(p)
	if over := t.b.Len() - t.max; over > 0 {
		t.b.Next(over)
	}
	return len(p), nil
}

func (t *tailWriter) String() string { return t.b.String() }
