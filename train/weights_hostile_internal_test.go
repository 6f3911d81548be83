package train

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/dlrun/dlrun/internal/allocs"
)

// Weights that are a device, a FIFO or a directory are an error at once,
// without reading (a symlink to /dev/zero used to read until memory ran
// out; a FIFO blocked).
func TestLoadWeightsRefusesNonRegularFiles(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no /dev/zero or FIFOs")
	}
	dir := t.TempDir()
	zero := filepath.Join(dir, "model.safetensors")
	if err := os.Symlink("/dev/zero", zero); err != nil {
		t.Skip(err)
	}
	paths := []string{zero, dir}
	fifo := filepath.Join(dir, "fifo.safetensors")
	if err := syscall.Mkfifo(fifo, 0o644); err == nil {
		paths = append(paths, fifo)
	}
	g := tinyTrainer(t, "").g
	for _, p := range paths {
		var err error
		n := allocs.Bytes(func() { err = LoadWeights(p, g) })
		if err == nil || !strings.Contains(err.Error(), "not a regular file") || !strings.Contains(err.Error(), p) {
			t.Errorf("%s: %v", p, err)
		}
		if n > 1<<20 {
			t.Errorf("%s: allocated %d bytes", p, n)
		}
	}
}

// A header length past MaxHeaderBytes is refused before anything is
// allocated for it, even when the file is that long (a sparse file here);
// a header just under the limit costs a small multiple of its size.
func TestLoadWeightsBoundsTheHeader(t *testing.T) {
	dir := t.TempDir()
	g := tinyTrainer(t, "").g
	huge := filepath.Join(dir, "huge.safetensors")
	f, err := os.Create(huge)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(binary.LittleEndian.AppendUint64(nil, 90_000_000))
	if err := f.Truncate(8 + 90_000_000); err != nil {
		t.Fatal(err)
	}
	f.Close()
	n := allocs.Bytes(func() { err = LoadWeights(huge, g) })
	if err == nil || !strings.Contains(err.Error(), "header of 90000000 bytes, more than the 16777216 allowed") || !errors.Is(err, ErrNotSafetensors) {
		t.Errorf("90 MB header: %v", err)
	}
	if n > 1<<20 {
		t.Errorf("90 MB header: allocated %d bytes", n)
	}

	// A valid file whose metadata pads its header to just under the limit.
	path := filepath.Join(dir, "w.safetensors")
	if err := SaveWeights(path, g); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(path)
	h, data := stHeader(t, b)
	h["__metadata__"].(map[string]any)["pad"] = strings.Repeat("x", MaxHeaderBytes-2000)
	big := stFileBytes(t, h, data)
	hdr := binary.LittleEndian.Uint64(big)
	if hdr > MaxHeaderBytes || hdr < MaxHeaderBytes-4000 {
		t.Fatalf("header of %d bytes, want just under %d", hdr, MaxHeaderBytes)
	}
	if err := os.WriteFile(path, big, 0o644); err != nil {
		t.Fatal(err)
	}
	big = nil
	n = allocs.Bytes(func() { err = LoadWeights(path, g) })
	if err != nil {
		t.Fatal(err)
	}
	if n > 6*hdr {
		t.Errorf("a header of %d bytes allocated %d, more than 6 times its size", hdr, n)
	}
	t.Logf("a header of %d bytes allocated %d (%.1f×)", hdr, n, float64(n)/float64(hdr))
}

// A header of many tensors the model does not have, or of many metadata
// entries, is an error that costs a small multiple of the header: the
// unknown tensors are counted, not kept.
func TestLoadWeightsManyEntries(t *testing.T) {
	g := tinyTrainer(t, "").g
	dir := t.TempDir()
	var tensors, meta strings.Builder
	tensors.WriteString("{")
	meta.WriteString(`{"__metadata__":{`)
	for i := 0; i < 200_000; i++ {
		if i > 0 {
			tensors.WriteString(",")
			meta.WriteString(",")
		}
		fmt.Fprintf(&tensors, `"t%d":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}`, i)
		fmt.Fprintf(&meta, `"m%d":""`, i)
	}
	tensors.WriteString("}")
	meta.WriteString("}}")
	for _, c := range []struct{ name, header, want string }{
		{"tensors", tensors.String(), `tensors "t0", "t1", "t2", and 199997 more are not a parameter of this model`},
		{"metadata", meta.String(), "__metadata__ holds more than 1024 entries"},
	} {
		path := filepath.Join(dir, c.name)
		b := append(binary.LittleEndian.AppendUint64(nil, uint64(len(c.header))), c.header...)
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		var err error
		n := allocs.Bytes(func() { err = LoadWeights(path, g) })
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
		if n > 8*uint64(len(c.header)) {
			t.Errorf("%s: a header of %d bytes allocated %d", c.name, len(c.header), n)
		}
		t.Logf("%s: a header of %d bytes allocated %d (%.1f×)", c.name, len(c.header), n, float64(n)/float64(len(c.header)))
	}
}

// parseUints reads what encoding/json reads into []uint64, up to max
// values, and nothing else.
func TestParseUints(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []uint64 // nil: refused
	}{
		{"[]", []uint64{}}, {" [ ] ", []uint64{}}, {"[1,2]", []uint64{1, 2}}, {"[ 0 , 18446744073709551615 ]", []uint64{0, 1<<64 - 1}},
		{"[18446744073709551616]", nil}, {"[01]", nil}, {"[-1]", nil}, {"[1.0]", nil}, {"[1e3]", nil}, {`["1"]`, nil},
		{"[1,]", nil}, {"[,1]", nil}, {"[1,,2]", nil}, {"1", nil}, {"[1", nil}, {"{}", nil}, {"[1,2,3]", nil},
	} {
		got, ok := parseUints([]byte(c.in), 2)
		if (c.want == nil) != !ok || (ok && fmt.Sprint(got) != fmt.Sprint(c.want)) {
			t.Errorf("%s: %v, %v; want %v", c.in, got, ok, c.want)
		}
	}
	if got, ok := parseUints([]byte("null"), 2); !ok || got != nil {
		t.Errorf("null: %v, %v", got, ok)
	}
}
