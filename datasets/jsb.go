package datasets

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/dlrun/dlrun/music"
	"github.com/pkg/errors"
)

//go:embed data/jsb-chorales/jsb-chorales-quarter.json.gz data/jsb-chorales/LICENCE data/jsb-chorales/SHA256SUMS
var jsbFiles embed.FS

// jsbFile is the bundled JSB Chorales file.
const jsbFile = "jsb-chorales-quarter.json.gz"

// JSB Chorales' split sizes (Boulanger-Lewandowski et al. 2012).
const (
	JSBTrain = 229
	JSBValid = 76
	JSBTest  = 77
)

var jsb struct {
	once sync.Once
	m    *Music
	err  error
}

// JSBChorales returns the bundled JSB Chorales, name "jsb-chorales": the
// 382 four-part chorales of J. S. Bach (public domain; see JSBLicence) at
// quarter-note resolution, as piano rolls, with the split of
// Boulanger-Lewandowski, Vincent & Bengio (ICML 2012): 229 training, 76
// validation and 77 test chorales of 13,807, 4,602 and 4,725 steps, the
// benchmark of polyphonic music modelling. The data is C.-Z. A. Huang's
// JSON of MIDI note numbers (jsb-chorales-quarter.json), checked against
// its SHA-256 in SHA256SUMS before it is parsed. Every roll has a tempo of
// 60 quarter notes a minute (the chorales' tempo is not in the data) and
// the time signature 4/4. The parsed dataset is cached; callers must not
// modify it.
func JSBChorales() (*Music, error) {
	jsb.once.Do(func() {
		b, err := jsbFiles.ReadFile("data/jsb-chorales/" + jsbFile)
		if err != nil {
			jsb.err = err
			return
		}
		sums, err := jsbFiles.ReadFile("data/jsb-chorales/SHA256SUMS")
		if err != nil {
			jsb.err = err
			return
		}
		if err := checkSum("bundled "+jsbFile, b, sums); err != nil {
			jsb.err = err
			return
		}
		jsb.m, jsb.err = parseJSB("bundled "+jsbFile, b)
		if jsb.err == nil && (len(jsb.m.Train) != JSBTrain || len(jsb.m.Valid) != JSBValid || len(jsb.m.Test) != JSBTest) {
			jsb.m, jsb.err = nil, errors.Errorf("bundled %s: %d/%d/%d chorales, want %d/%d/%d", jsbFile, len(jsb.m.Train), len(jsb.m.Valid), len(jsb.m.Test), JSBTrain, JSBValid, JSBTest)
		}
	})
	return jsb.m, jsb.err
}

// JSBLicence returns the provenance and licence note of the bundled JSB
// Chorales.
func JSBLicence() string {
	b, _ := jsbFiles.ReadFile("data/jsb-chorales/LICENCE")
	return string(b)
}

// checkSum returns an error naming name unless the SHA-256 of b is the one
// sums (a sha256sum listing) gives for the file name ends with.
func checkSum(name string, b, sums []byte) error {
	sum := sha256.Sum256(b)
	got := hex.EncodeToString(sum[:])
	for _, line := range strings.Split(string(sums), "\n") {
		f := strings.Fields(line)
		if len(f) == 2 && strings.HasSuffix(name, strings.TrimPrefix(f[1], "*")) {
			if f[0] != got {
				return errors.Errorf("%s: SHA-256 %s, but SHA256SUMS says %s", name, got, f[0])
			}
			return nil
		}
	}
	return errors.Errorf("%s: not listed in SHA256SUMS", name)
}

// jsbTempo is the tempo given to the chorales' rolls, in quarter notes a
// minute: a chorale's stately pace.
const jsbTempo = 60

// jsbMaxBytes bounds the JSB Chorales' JSON, decompressed (16 MiB; the
// bundled file holds 407,200 bytes).
const jsbMaxBytes = 16 << 20

// parseJSB reads the JSB Chorales' JSON (gzipped): an object whose keys
// "train", "valid" and "test" each hold a list of chorales, a chorale a
// list of steps, a step a list of MIDI note numbers.
func parseJSB(name string, gz []byte) (*Music, error) {
	text, err := readTextString(bytesSource(name, gz), jsbMaxBytes)
	if err != nil {
		return nil, err
	}
	var raw map[string][][][]int
	dec := json.NewDecoder(strings.NewReader(text))
	if err := dec.Decode(&raw); err != nil {
		return nil, errors.Errorf("%s: not the JSB Chorales' JSON (%v)", name, err)
	}
	m := &Music{Name: "jsb-chorales", Grid: music.Quarter, SHA256: hashFiles(gz)}
	for _, split := range []struct {
		key string
		dst *[]Piece
	}{{"train", &m.Train}, {"valid", &m.Valid}, {"test", &m.Test}} {
		chorales, ok := raw[split.key]
		if !ok {
			return nil, errors.Errorf("%s: no %q split", name, split.key)
		}
		for i, steps := range chorales {
			r, err := music.FromNotes(steps, music.Quarter)
			if err != nil {
				return nil, errors.Errorf("%s: %s chorale %d: %v", name, split.key, i+1, err)
			}
			r.Tempo = jsbTempo
			*split.dst = append(*split.dst, Piece{Name: fmt.Sprintf("%s/%d", split.key, i+1), Roll: r})
		}
	}
	if len(raw) != 3 {
		return nil, errors.Errorf("%s: %d keys, want train, valid and test", name, len(raw))
	}
	return m, nil
}
