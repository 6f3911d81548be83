package music

import (
	"bytes"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/internal/allocs"
)

// FuzzParse runs the reader on arbitrary bytes, seeded with files the
// writer writes and with the malformed files of TestParseErrors. A parse
// must not panic; an error must be one line naming the file; a parse may
// allocate no more than a constant plus a multiple of the file's size (a
// lying length must not reserve memory: gomidi's decoding leaves some 130
// bytes of garbage for each byte of note events, so the multiple is 256);
// and
// what parses quantises (within MaxSteps) and writes back.
func FuzzParse(f *testing.F) {
	for _, g := range []Grid{Quarter, Sixteenth} {
		r, _ := FromNotes([][]int{{60, 64, 67}, {60, 64, 67}, {}, {62, 65, 69, 74}}, g)
		var buf bytes.Buffer
		Write(&buf, r, WriteOptions{Name: "seed"})
		f.Add(buf.Bytes())
	}
	f.Add(smfFile(0, 96, cat(tempoEv(0, 500000), ev(0, 0x90, 60, 100), ev(0, 0x99, 36, 90), ev(96, 0x80, 60, 0), ev(0, 64, 0), eot)))
	f.Add(smfFile(1, 480, cat(ev(0, 0xFF, 0x58, 0x04, 3, 2, 24, 8), eot), cat(ev(0, 0xF0, 0x01, 0xF7), ev(10, 0x90, 60, 1), ev(1, 0xFF, 0x01, 0x00), ev(0, 60, 0))))
	f.Add(smfFile(0, 1, cat(ev(maxDelta, 0xC0, 1), ev(maxDelta, 0x90, 60, 1), eot)))
	f.Add(smfFile(2, 96, eot))
	f.Add(smfFile(0, 96, cat(ev(0, 0xFF, 0x01, 0x8F, 0xFF, 0xFF, 0x7F, 'x'))))
	f.Add(smfFile(0, 96, cat(ev(0, 0xF0, 0x00), ev(0, 0xF4), eot)))
	f.Fuzz(func(t *testing.T, data []byte) {
		var s *Song
		var err error
		n := allocs.Bytes(func() { s, err = Parse("fuzz.mid", data) })
		if bound := uint64(64<<10 + 256*len(data)); n > bound {
			t.Fatalf("parsing %d bytes allocated %d, more than %d", len(data), n, bound)
		}
		if err != nil {
			if msg := err.Error(); strings.Contains(msg, "\n") || !strings.HasPrefix(msg, "fuzz.mid: ") {
				t.Fatalf("error %q is not one line naming fuzz.mid", msg)
			}
			return
		}
		var r *Roll
		n = allocs.Bytes(func() { r, _, err = s.Roll(Sixteenth) })
		if bound := uint64(64<<10 + 16*MaxSteps + 256*len(data)); n > bound {
			t.Fatalf("quantising allocated %d, more than %d", n, bound)
		}
		if err != nil {
			if msg := err.Error(); strings.Contains(msg, "\n") || !strings.HasPrefix(msg, "fuzz.mid: ") {
				t.Fatalf("error %q is not one line naming fuzz.mid", msg)
			}
			return
		}
		r.Tempo = 120 // a file's tempo may lie beyond what Write accepts
		if err := Write(&bytes.Buffer{}, r, WriteOptions{}); err != nil {
			t.Fatalf("writing what was read: %v", err)
		}
	})
}
