//go:build unix

package torchref

import (
	"errors"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// The core type is SkylakeX on a CPU with AVX-512 and left to OpenBLAS
// elsewhere; one in the environment is kept.
func TestCoreType(t *testing.T) {
	defer func(f func() bool) { hasAVX512 = f }(hasAVX512)
	t.Setenv("OPENBLAS_CORETYPE", "")
	syscall.Unsetenv("OPENBLAS_CORETYPE")
	for _, c := range []struct {
		avx512 bool
		want   string
	}{{true, "SkylakeX"}, {false, ""}} {
		hasAVX512 = func() bool { return c.avx512 }
		if got := CoreType(); got != c.want {
			t.Errorf("AVX-512 %v: core type %q, want %q", c.avx512, got, c.want)
		}
		env := Env(2)
		if has := slices.Contains(env, "OPENBLAS_CORETYPE=SkylakeX"); has != c.avx512 {
			t.Errorf("AVX-512 %v: environment sets SkylakeX: %v", c.avx512, has)
		}
		if !slices.Contains(env, "OPENBLAS_NUM_THREADS=2") {
			t.Errorf("environment lacks OPENBLAS_NUM_THREADS=2")
		}
	}
	if Setting() != "OpenBLAS's own choice of core type" {
		t.Errorf("Setting() = %q", Setting())
	}
	t.Setenv("OPENBLAS_CORETYPE", "Haswell")
	hasAVX512 = func() bool { return true }
	if got := CoreType(); got != "Haswell" || Setting() != "OPENBLAS_CORETYPE=Haswell" {
		t.Errorf("with OPENBLAS_CORETYPE=Haswell set: %q, %q", got, Setting())
	}
}

// A reference run that dies says how and what that means, with the last
// line it wrote.
func TestRunNamesHowItEnded(t *testing.T) {
	defer func(f func() bool) { hasAVX512 = f }(hasAVX512)
	hasAVX512 = func() bool { return true }
	syscall.Unsetenv("OPENBLAS_CORETYPE")
	for _, c := range []struct {
		script string
		sig    syscall.Signal
		want   string
	}{
		{"echo loading >&2; kill -ILL $$", syscall.SIGILL, "killed by SIGILL (illegal instruction): a library ran an instruction this CPU lacks (it ran under OPENBLAS_CORETYPE=SkylakeX; unset it, or set the core type of this CPU): loading"},
		{"kill -KILL $$", syscall.SIGKILL, "killed by SIGKILL: most often the kernel's out-of-memory killer (see dmesg)"},
		{"kill -SEGV $$", syscall.SIGSEGV, "crashed with SIGSEGV (segmentation fault)"},
		{"echo 'first' >&2; echo 'ModuleNotFoundError: No module named torch' >&2; exit 3", 0, "exited with status 3: ModuleNotFoundError: No module named torch"},
	} {
		out, err := Run("/bin/sh", []string{"-c", c.script}, 1, nil)
		var re *RunError
		if !errors.As(err, &re) || re.Signal != c.sig {
			t.Errorf("%s: %v (%T), want a RunError with signal %v", c.script, err, err, c.sig)
			continue
		}
		if err.Error() != c.want || strings.Contains(err.Error(), "\n") || len(out) != 0 {
			t.Errorf("%s: %q\nwant %q", c.script, err, c.want)
		}
	}
	out, err := Run("/bin/sh", []string{"-c", "echo $OPENBLAS_CORETYPE $OPENBLAS_NUM_THREADS"}, 3, nil)
	if err != nil || strings.TrimSpace(string(out)) != "SkylakeX 3" {
		t.Errorf("the run's environment: %q, %v", out, err)
	}
}
