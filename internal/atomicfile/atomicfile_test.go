package atomicfile

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

func TestWriteFileReplacesWholeAndLeavesNoTemp(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f.json")
	for _, content := range []string{"first", "second, longer"} {
		if err := WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(p)
		if err != nil || string(b) != content {
			t.Fatalf("read %q, %v; want %q", b, err, content)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("folder holds %d entries, want 1", len(entries))
	}
	if err := WriteFile(filepath.Join(dir, "missing", "f"), []byte("x"), 0o644); err == nil {
		t.Fatal("write into a missing folder succeeded")
	}
}

// A disk that fills up part way through a write: the destination keeps
// its old content, no temporary file is left, and the error names the
// destination and the cause.
func TestWriteFileOnFullDiskLeavesOldFileAndNoTemp(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "checkpoint.safetensors")
	if err := WriteFile(p, []byte("epoch 1"), 0o644); err != nil {
		t.Fatal(err)
	}
	defer func(w func(*os.File, []byte) (int, error)) { write = w }(write)
	write = func(f *os.File, data []byte) (int, error) {
		n, _ := f.Write(data[:len(data)/2])
		return n, syscall.ENOSPC
	}
	err := WriteFile(p, []byte("epoch 2, a longer file"), 0o644)
	if err == nil || !strings.Contains(err.Error(), "writing "+p) || !strings.Contains(err.Error(), "no space left") {
		t.Fatalf("error %v", err)
	}
	if b, _ := os.ReadFile(p); string(b) != "epoch 1" {
		t.Fatalf("destination holds %q after a failed write", b)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("folder holds %d entries after a failed write, want 1", len(entries))
	}
}

func TestIsTempAndRemoveStale(t *testing.T) {
	for _, c := range []struct {
		name, dest string
		want       bool
	}{
		{".model.safetensors.tmp-123", "model.safetensors", true},
		{".model.safetensors.tmp-", "model.safetensors", false},
		{".model.safetensors.tmp-12a", "model.safetensors", false},
		{"model.safetensors.tmp-1", "model.safetensors", false},
		{".best.safetensors.tmp-1", "model.safetensors", false},
		{".model.safetensors", "model.safetensors", false},
	} {
		if got := IsTemp(c.name, c.dest); got != c.want {
			t.Errorf("IsTemp(%q, %q) = %v", c.name, c.dest, got)
		}
	}
	dir := t.TempDir()
	for _, n := range []string{".a.json.tmp-1", ".a.json.tmp-22", ".b.json.tmp-3", "a.json", ".a.json.tmp-x", ".c.json.tmp-4"} {
		os.WriteFile(filepath.Join(dir, n), nil, 0o644)
	}
	os.Mkdir(filepath.Join(dir, ".a.json.tmp-5"), 0o755) // not a regular file: kept
	removed, err := RemoveStale(dir, "a.json", "b.json")
	if err != nil {
		t.Fatal(err)
	}
	for i := range removed {
		removed[i] = filepath.Base(removed[i])
	}
	slices.Sort(removed)
	if want := []string{".a.json.tmp-1", ".a.json.tmp-22", ".b.json.tmp-3"}; !slices.Equal(removed, want) {
		t.Errorf("removed %v, want %v", removed, want)
	}
	var left []string
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		left = append(left, e.Name())
	}
	if want := []string{".a.json.tmp-5", ".a.json.tmp-x", ".c.json.tmp-4", "a.json"}; !slices.Equal(left, want) {
		t.Errorf("left %v, want %v", left, want)
	}
}
