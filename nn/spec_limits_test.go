package nn_test

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/dlrun/dlrun/internal/allocs"

	"github.com/dlrun/dlrun/nn"
)

// The spec fixtures of testdata/models (written by the train package's
// TestModelFixtures -update).
const specFixtures = "../testdata/models"

func addSpecFixtures(f *testing.F) {
	paths, err := filepath.Glob(filepath.Join(specFixtures, "spec-*.yaml"))
	if err != nil || len(paths) == 0 {
		f.Fatalf("no spec fixtures in %s: %v", specFixtures, err)
	}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

// parseAllocs returns the bytes ParseSpec allocates on b.
func parseAllocs(b []byte) uint64 {
	return allocs.Bytes(func() { nn.ParseSpec(b, "fuzz.yaml") })
}

// Specs past a limit are one-line errors that name it, found before
// anything is built, at a bounded cost.
func TestSpecLimits(t *testing.T) {
	layers := func(n int, layer string) string {
		return "name: m\nlayers:\n" + strings.Repeat("  - "+layer+"\n", n)
	}
	// Aliases of aliases: 10 lists of 10 of the list before, 10^8 values
	// in all, in a few hundred bytes.
	bomb := "name: m\nlayers:\n  - dense:\n      units: 1\n      a0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n"
	for i := 1; i < 8; i++ {
		bomb += fmt.Sprintf("      a%d: &a%d [%s*a%d]\n", i, i, strings.Repeat(fmt.Sprintf("*a%d, ", i-1), 9), i-1)
	}
	for _, c := range []struct{ name, spec, want string }{
		{"units", "name: m\nlayers:\n  - dense: {units: 67108865}\n", `setting "units" must be a positive integer of at most 67108864, not 67108865`},
		{"kernel", "name: m\nlayers:\n  - conv2d: {filters: 1, kernel: [1, 100000000]}\n", `setting "kernel" must be a positive integer of at most 67108864 or a pair`},
		{"list", "name: m\nlayers:\n  - ncf: {users: 2, movies: 2, hidden: [" + strings.Repeat("1, ", 256) + "1]}\n", `layer 1 (ncf): setting "hidden": a list of 257 values, more than the 256`},
		{"layers", layers(nn.MaxSpecLayers+1, "relu"), "4097 layers, more than the 4096 a spec may hold"},
		{"aliases", bomb, "more than the 262144 values a model spec may hold"},
		{"aliased layers", "name: m\nlayers:\n  - &l {ncf: {users: 2, movies: 2, hidden: [" + strings.Repeat("1, ", 999) + "1]}}\n" + strings.Repeat("  - *l\n", 300), "more than the 262144 values"},
		{"nesting", "name: m\nlayers: " + strings.Repeat("[", 200) + strings.Repeat("]", 200) + "\n", "nested more than 100 deep"},
		{"model name", "name: " + strings.Repeat("m", 257) + "\nlayers: [relu]\n", `"name": 257 bytes, longer than the 256 a name may have`},
		{"layer name", "name: m\nlayers:\n  - relu: {name: " + strings.Repeat("r", 300) + "}\n", `layer 1 (relu): setting "name": 300 bytes`},
		{"control character", "name: m\nlayers:\n  - relu: {name: \"a\\tb\"}\n", `"a\tb" holds a control character`},
		{"kind", "name: m\nlayers:\n  - " + strings.Repeat("k", 1000) + "\n", "a layer kind of 1000 bytes"},
		{"size", "name: m\nlayers: [relu]\n#" + strings.Repeat(" ", nn.MaxSpecBytes), "more than the 262144 a model spec may hold"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var err error
			n := allocs.Bytes(func() { _, err = nn.ParseSpec([]byte(c.spec), "m.yaml") })
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "m.yaml: ") || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error %v, want one line containing %q", err, c.want)
			}
			if limit := uint64(8<<20 + 512*len(c.spec)); n > limit {
				t.Fatalf("parsing %d bytes allocated %d, more than %d", len(c.spec), n, limit)
			}
		})
	}
	// A Spec built in Go is held to the same names.
	if _, err := (nn.Spec{Name: "m\xff", Layers: []nn.LayerSpec{{Kind: "relu"}}}).Build(); err == nil || !strings.Contains(err.Error(), "is not UTF-8") {
		t.Errorf("a name that is not UTF-8: %v", err)
	}
	// The largest allowed values parse; a layer may have the longest name.
	for _, ok := range []string{
		"name: m\nlayers:\n  - dense: {units: 67108864, name: " + strings.Repeat("d", nn.MaxNameLen) + "}\n",
		layers(nn.MaxSpecLayers, "relu"),
	} {
		if _, err := nn.ParseSpec([]byte(ok), "ok.yaml"); err != nil {
			t.Errorf("%.60q...: %v", ok, err)
		}
	}
}

// ReadSpec reads regular files of at most MaxSpecBytes, and no FIFO,
// device or directory.
func TestReadSpecFiles(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, []byte("name: m\nlayers: [relu]\n#"+strings.Repeat(" ", nn.MaxSpecBytes)), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{big: "more than the 262144 this file may hold", dir: "not a regular file"}
	if runtime.GOOS != "windows" {
		fifo := filepath.Join(dir, "fifo.yaml")
		if err := syscall.Mkfifo(fifo, 0o644); err == nil {
			cases[fifo] = "not a regular file"
		}
		cases["/dev/zero"] = "not a regular file"
	}
	for path, want := range cases {
		if _, err := nn.ReadSpec(path); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", path, err, want)
		}
	}
	if _, err := nn.ReadSpec(filepath.Join(specFixtures, "spec-valid.yaml")); err != nil {
		t.Error(err)
	}
}
