package datasets

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/music"
)

func TestJSBChorales(t *testing.T) {
	m, err := JSBChorales()
	if err != nil {
		t.Fatal(err)
	}
	if m.Name != "jsb-chorales" || m.Grid != music.Quarter || len(m.Train) != 229 || len(m.Valid) != 76 || len(m.Test) != 77 {
		t.Fatalf("%s: %v grid, %d/%d/%d chorales", m.Name, m.Grid, len(m.Train), len(m.Valid), len(m.Test))
	}
	if a, b, c := Steps(m.Train), Steps(m.Valid), Steps(m.Test); a != 13807 || b != 4602 || c != 4725 {
		t.Errorf("steps %d/%d/%d, want 13,807/4,602/4,725", a, b, c)
	}
	first := m.Train[0]
	if first.Name != "train/1" || !reflect.DeepEqual(first.Roll.Notes()[:2], [][]int{{60, 72, 79, 88}, {72, 79, 88}}) || first.Roll.Tempo != 60 {
		t.Errorf("first chorale %s: %v at %g", first.Name, first.Roll.Notes()[:2], first.Roll.Tempo)
	}
	if m.Test[76].Name != "test/77" || m.OutOfRange != 0 {
		t.Errorf("last test chorale %s; %d notes out of range", m.Test[76].Name, m.OutOfRange)
	}
	if again, _ := JSBChorales(); again != m {
		t.Error("not cached")
	}
	if !strings.Contains(JSBLicence(), "public domain") {
		t.Error("licence note")
	}
}

// The corpus statistics the music package measures: the figures of the
// shared data's README (99.8% of the steps hold 3 or 4 notes, which is
// the training split's figure; 94% of the notes lie in the chorale's
// scale).
func TestJSBStatistics(t *testing.T) {
	m, err := JSBChorales()
	if err != nil {
		t.Fatal(err)
	}
	train := music.Measure(Rolls(m.Train))
	all := music.Measure(append(append(Rolls(m.Train), Rolls(m.Valid)...), Rolls(m.Test)...))
	if math.Abs(train.ThreeOrFour-0.9976) > 0.0001 || math.Abs(all.ThreeOrFour-0.9959) > 0.0001 {
		t.Errorf("3 or 4 notes: training %.4f, all %.4f; want 0.9976 and 0.9959", train.ThreeOrFour, all.ThreeOrFour)
	}
	if math.Abs(all.InScale-0.9446) > 0.0001 {
		t.Errorf("in scale: %.4f, want 0.9446", all.InScale)
	}
	t.Logf("training split: %v", train)
	t.Logf("all 382: %v", all)
}

// The embedded files are byte for byte those listed in SHA256SUMS.
func TestBundledJSBChecksums(t *testing.T) {
	sums, err := jsbFiles.ReadFile("data/jsb-chorales/SHA256SUMS")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"jsb-chorales-quarter.json.gz": "fc86ce66e9158240bc6180809d096949d5a177838a1bc213f2e649cf6c1936f6",
		"LICENCE":                      "",
	}
	n := 0
	for _, line := range strings.Split(strings.TrimSpace(string(sums)), "\n") {
		f := strings.Fields(line)
		b, err := jsbFiles.ReadFile("data/jsb-chorales/" + f[1])
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		if w, ok := want[f[1]]; !ok || hex.EncodeToString(sum[:]) != f[0] || (w != "" && w != f[0]) {
			t.Errorf("%s: SHA-256 differs from SHA256SUMS or from the published sum", f[1])
		}
		n++
	}
	if n != len(want) {
		t.Fatalf("%d files checked, want %d", n, len(want))
	}
}

func TestParseJSBErrors(t *testing.T) {
	gz := func(s string) []byte {
		var buf bytes.Buffer
		w := gzip.NewWriter(&buf)
		w.Write([]byte(s))
		w.Close()
		return buf.Bytes()
	}
	cases := map[string]string{
		`[1, 2]`: "not the JSB Chorales' JSON",
		`{"train": [[[60]]], "valid": [[[60.5]]], "test": []}`:            "not the JSB Chorales' JSON",
		`{"train": [[[60]]], "test": []}`:                                 `no "valid" split`,
		`{"train": [[[60]]], "valid": [], "test": [[[61], [20]]]}`:        "test chorale 1: step 2: note 20 (G#0) is outside the piano's 88 keys",
		`{"train": [[[60]]], "valid": [], "test": [], "extra": [[[60]]]}`: "4 keys, want train, valid and test",
	}
	for in, want := range cases {
		_, err := parseJSB("j.json.gz", gz(in))
		if err == nil || !strings.HasPrefix(err.Error(), "j.json.gz: ") || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: error %v, want one line saying %q", in, err, want)
		}
	}
	m, err := parseJSB("j.json.gz", gz(`{"train": [[[60, 64], []]], "valid": [[[62]]], "test": [[[108]]]}`))
	if err != nil || len(m.Train) != 1 || !reflect.DeepEqual(m.Train[0].Roll.Notes(), [][]int{{60, 64}, {}}) {
		t.Errorf("a small file: %v", err)
	}
	if err := checkSum("bundled x.gz", []byte("abc"), []byte("0000  x.gz\n")); err == nil || !strings.Contains(err.Error(), "SHA256SUMS says 0000") {
		t.Errorf("a wrong sum: %v", err)
	}
	if err := checkSum("bundled y.gz", []byte("abc"), []byte("0000  x.gz\n")); err == nil || !strings.Contains(err.Error(), "not listed") {
		t.Errorf("an unlisted file: %v", err)
	}
}

// FuzzParseJSB runs the JSB Chorales' parser on arbitrary bytes, seeded
// with the bundled file and small variants: it must not panic, and an
// error must be one line naming the file.
func FuzzParseJSB(f *testing.F) {
	b, err := jsbFiles.ReadFile("data/jsb-chorales/" + jsbFile)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	for _, s := range []string{`{"train": [[[60, 64], []]], "valid": [[[62]]], "test": [[[108]]]}`, `{"train": [[[20]]]}`, `[]`} {
		var buf bytes.Buffer
		w := gzip.NewWriter(&buf)
		w.Write([]byte(s))
		w.Close()
		f.Add(buf.Bytes())
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		_, err := parseJSB("fuzz.json.gz", data)
		if err != nil && (strings.Contains(err.Error(), "\n") || !strings.HasPrefix(err.Error(), "fuzz.json.gz")) {
			t.Fatalf("error %q is not one line naming fuzz.json.gz", err)
		}
	})
}
