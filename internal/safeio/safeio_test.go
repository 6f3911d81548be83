package safeio

import (
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/internal/allocs"
)

func TestReadFileLimit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, make([]byte, 100), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, err := ReadFile(path, 100); err != nil || len(b) != 100 {
		t.Fatalf("at the limit: %d bytes, %v", len(b), err)
	}
	if _, err := ReadFile(path, 99); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "100 bytes") {
		t.Fatalf("over the limit: %v", err)
	}
}

func TestLimitStopsABomb(t *testing.T) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(make([]byte, 10<<20))
	zw.Close()
	zr, err := gzip.NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, Limit(zr, 1<<20, "bomb.gz"))
	if !errors.Is(err, ErrTooLarge) || n != 1<<20 || !strings.Contains(err.Error(), "bomb.gz") {
		t.Fatalf("read %d bytes, error %v", n, err)
	}
	// Exactly at the limit is not an error.
	b, err := ReadAll(strings.NewReader("abcd"), 4, "x")
	if err != nil || string(b) != "abcd" {
		t.Fatalf("%q, %v", b, err)
	}
}

// ReadFile reserves the file's size once, not the doublings of io.ReadAll.
func TestReadFileAllocatesTheSizeOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, make([]byte, 4<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	var b []byte
	var err error
	got := allocs.Bytes(func() { b, err = ReadFile(path, 8<<20) })
	if err != nil || len(b) != 4<<20 {
		t.Fatalf("%d bytes, %v", len(b), err)
	}
	if got > 4<<20+64<<10 {
		t.Fatalf("reading 4 MiB allocated %d bytes", got)
	}
}
