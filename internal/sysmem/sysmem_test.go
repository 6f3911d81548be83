package sysmem

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

func TestAvailableOnLinux(t *testing.T) {
	n, src, ok := Available()
	if runtime.GOOS != "linux" {
		t.Skip("reads Linux's /proc and /sys")
	}
	if !ok || n <= 0 || src == "" {
		t.Fatalf("Available() = %d, %q, %v", n, src, ok)
	}
}

func TestMeminfo(t *testing.T) {
	p := filepath.Join(t.TempDir(), "meminfo")
	os.WriteFile(p, []byte("MemTotal:       24000000 kB\nMemAvailable:   1000 kB\nVmSize:\n"), 0o600)
	if v, ok := meminfo(p, "MemAvailable:"); !ok || v != 1000<<10 {
		t.Fatalf("MemAvailable: %d, %v", v, ok)
	}
	if _, ok := meminfo(p, "VmSize:"); ok {
		t.Fatal("an empty field read as a number")
	}
	if _, ok := meminfo(p, "Missing:"); ok {
		t.Fatal("a missing key found")
	}
}
