package experiments_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/internal/allocs"

	"github.com/dlrun/dlrun/experiments"
)

// maxParseAlloc bounds what parsing and checking one experiment file of
// at most MaxFileSize bytes may allocate, all garbage included. The worst
// inputs found (a list of 32000 seeds, lists nested 9000 deep) take about
// 20 MB.
const maxParseAlloc = 64 << 20

// Parse never panics, allocates a bounded amount, fails with one line
// that names the file, and what it accepts passes Check with a name that
// is a folder's name and seeds that are each trained once.
func FuzzParse(f *testing.F) {
	paths, err := filepath.Glob(filepath.Join("..", "testdata", "experiments", "*"))
	if err != nil || len(paths) == 0 {
		f.Fatalf("no fixtures: %v", err)
	}
	shipped, _ := filepath.Glob("*.yaml")
	for _, p := range append(paths, shipped...) {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	path := filepath.Join(f.TempDir(), "fuzz.yaml")
	f.Fuzz(func(t *testing.T, data []byte) { checkParse(t, data, path) })
}

// The costliest shapes of input found, each near MaxFileSize, stay
// within maxParseAlloc. (They are not fuzz seeds: mutating and minimising
// inputs this large would slow the fuzzer to a crawl.)
func TestParseCostliestInputs(t *testing.T) {
	deep := strings.Repeat("[", 9000) + strings.Repeat("]", 9000)
	path := filepath.Join(t.TempDir(), "big.yaml")
	for _, s := range []string{
		"model: xor\nseeds: [" + strings.Repeat("1,", 32000) + "]\n",
		"model: xor\ndescription: [" + deep + "," + deep + "," + deep + "]\n",
		"model: xor\n" + strings.Repeat("x: 1\n", 12000),
		"model: xor\nx: {" + strings.Repeat("? []\n,", 10000),
	} {
		if len(s) > experiments.MaxFileSize {
			s = s[:experiments.MaxFileSize]
		}
		if _, err := experiments.Parse([]byte(s), path); err == nil {
			t.Errorf("%.40q...: parsed", s)
		}
		checkParse(t, []byte(s), path)
	}
}

// checkParse parses data, read from path, and fails t if that allocates
// more than maxParseAlloc, fails with anything but one line naming path,
// or accepts what Check, CheckName or CheckSeeds refuse.
func checkParse(t *testing.T, data []byte, path string) {
	t.Helper()
	var c *experiments.Config
	var err error
	if n := allocs.Bytes(func() { c, err = experiments.Parse(data, path) }); n > maxParseAlloc {
		t.Fatalf("parsing %d bytes allocated %d bytes, more than %d", len(data), n, maxParseAlloc)
	}
	if err != nil {
		if msg := err.Error(); !strings.HasPrefix(msg, path+": ") || strings.Contains(msg, "\n") {
			t.Fatalf("error %q: want one line naming the file", msg)
		}
		return
	}
	if err := c.Check(); err != nil {
		t.Fatalf("accepted a config that Check refuses: %v", err)
	}
	if experiments.CheckName(c.Name) != nil || experiments.CheckSeeds(c.Seeds) != nil || c.Model == "" {
		t.Fatalf("accepted name %q, seeds %v, model %q", c.Name, c.Seeds, c.Model)
	}
}
