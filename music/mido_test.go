package music

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// midoScript reads each MIDI file named on its command line with mido and
// prints one JSON object per file: the header, the meta events that say
// tempo, time signature and name, the program changes, the notes (a
// note_on and the note_off or zero-velocity note_on that ends it, paired
// in order per track, channel and key), each track's length in ticks and
// the file's length in seconds as mido computes it.
const midoScript = `
import json, sys
import mido
for path in sys.argv[1:]:
    mid = mido.MidiFile(path)
    out = {"type": mid.type, "ticks_per_beat": mid.ticks_per_beat, "tracks": len(mid.tracks),
           "tempos": [], "meters": [], "names": [], "programs": [], "notes": [], "track_ticks": [],
           "seconds": mid.length}
    for ti, track in enumerate(mid.tracks):
        now, open_ = 0, {}
        for msg in track:
            now += msg.time
            if msg.type == "set_tempo":
                out["tempos"].append([ti, now, msg.tempo])
            elif msg.type == "time_signature":
                out["meters"].append([ti, now, msg.numerator, msg.denominator])
            elif msg.type == "track_name":
                out["names"].append([ti, msg.name])
            elif msg.type == "program_change":
                out["programs"].append([ti, now, msg.channel, msg.program])
            elif msg.type == "note_on" and msg.velocity > 0:
                open_.setdefault((msg.channel, msg.note), []).append((now, msg.velocity))
            elif msg.type in ("note_off", "note_on"):
                start, vel = open_[(msg.channel, msg.note)].pop(0)
                out["notes"].append([ti, msg.channel, msg.note, start, now, vel])
        if any(open_.values()):
            raise SystemExit(path + ": a note is never ended")
        out["track_ticks"].append(now)
    out["notes"].sort()
    print(json.dumps(out))
`

// midoFile is what midoScript prints for a file.
type midoFile struct {
	Type         int       `json:"type"`
	TicksPerBeat int       `json:"ticks_per_beat"`
	Tracks       int       `json:"tracks"`
	Tempos       [][]int   `json:"tempos"`
	Meters       [][]int   `json:"meters"`
	Names        [][]any   `json:"names"`
	Programs     [][]int   `json:"programs"`
	Notes        [][]int64 `json:"notes"`
	TrackTicks   []int64   `json:"track_ticks"`
	Seconds      float64   `json:"seconds"`
}

// TestMidoReadsWhatWeWrite writes every kind of file Write writes (each
// grid; default and set tempo, time signature, velocity, instrument and
// name; rests at the start, inside and at the end; a rest longer than one
// delta time; an empty roll) and reads them with an independent reader,
// Debian's python3-mido, checking the notes, their durations, the tempo,
// the time signature and the length against what the roll means.
func TestMidoReadsWhatWeWrite(t *testing.T) {
	python := "/usr/bin/python3"
	if err := exec.Command(python, "-c", "import mido").Run(); err != nil {
		needTool(t, "DLRUN_REQUIRE_MIDO", "Debian's python3-mido (apt-get install python3-mido)")
	}
	steps := [][]int{{}, {48, 64, 67, 72}, {48, 64, 67, 72}, {53, 65, 69, 72}, {55, 62, 67, 71}, {}, {}, {21, 60, 108}, {60}, {}}
	long := &Roll{Steps: make([]Step, 600_000), Grid: Quarter} // 288,000,000 ticks: past one delta time
	long.Steps[1].Add(60)
	long.Steps[599_998].Add(62)
	type file struct {
		r *Roll
		o WriteOptions
	}
	var files []file
	for _, g := range []Grid{0, Quarter, Eighth, Sixteenth} {
		r, err := FromNotes(steps, g)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, file{r, WriteOptions{}})
		tr := *r
		tr.Tempo, tr.Meter = 72.5, Meter{6, 8}
		files = append(files, file{&tr, WriteOptions{Velocity: 127, Program: 52, Name: "Chorale in Ä — dlrun"}})
	}
	files = append(files,
		file{&Roll{Tempo: 200, Meter: Meter{3, 4}}, WriteOptions{}},
		file{long, WriteOptions{Velocity: 1, Program: 127}},
	)

	dir := t.TempDir()
	var paths []string
	for i, f := range files {
		p := filepath.Join(dir, fmt.Sprintf("f%d.mid", i))
		if err := WriteFile(p, f.r, f.o); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	var stderr bytes.Buffer
	cmd := exec.Command(python, append([]string{"-c", midoScript}, paths...)...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("mido: %v: %s", err, stderr.String())
	}
	dec := json.NewDecoder(bytes.NewReader(out))
	for i, f := range files {
		var got midoFile
		if err := dec.Decode(&got); err != nil {
			t.Fatalf("file %d: %v", i, err)
		}
		want := midoExpect(f.r, f.o)
		if !reflect.DeepEqual(got.Notes, want.Notes) {
			t.Errorf("file %d: mido read the notes %v, want %v", i, got.Notes, want.Notes)
		}
		got.Notes, want.Notes = nil, nil
		if math.Abs(got.Seconds-want.Seconds) > 1e-6*max(1, want.Seconds) {
			t.Errorf("file %d: mido says %g s, want %g", i, got.Seconds, want.Seconds)
		}
		got.Seconds = want.Seconds
		if !reflect.DeepEqual(got, want) {
			t.Errorf("file %d: mido read\n%+v, want\n%+v", i, got, want)
		}
	}
}

// needTool skips t, saying what it needs, or fails it when the
// environment variable require is set (.ci/run sets it, having installed
// the tool).
func needTool(t *testing.T, require, what string) {
	t.Helper()
	if os.Getenv(require) != "" {
		t.Fatalf("%s is set, but this test needs %s", require, what)
	}
	t.Skip("skipped: needs " + what)
}

// midoExpect returns what midoScript should print for r written with o,
// from the roll's meaning: every run of consecutive steps a key sounds on
// is one note of TicksPerQuarter/grid ticks a step.
func midoExpect(r *Roll, o WriteOptions) midoFile {
	perStep := int64(TicksPerQuarter / r.Grid.Or())
	end := int64(len(r.Steps)) * perStep
	tempo := DefaultTempo
	if r.Tempo != 0 {
		tempo = r.Tempo
	}
	us := int(math.Round(6e7 / tempo))
	m := r.Meter.Or44()
	velocity := o.Velocity
	if velocity == 0 {
		velocity = DefaultVelocity
	}
	want := midoFile{
		Type: 1, TicksPerBeat: TicksPerQuarter, Tracks: 2,
		Tempos:     [][]int{{0, 0, us}},
		Meters:     [][]int{{0, 0, m.Beats, m.Unit}},
		Names:      [][]any{},
		Programs:   [][]int{{1, 0, 0, o.Program}},
		Notes:      [][]int64{},
		TrackTicks: []int64{end, end},
		Seconds:    float64(end) / TicksPerQuarter * float64(us) / 1e6,
	}
	if o.Name != "" {
		want.Names = [][]any{{0.0, strings.ReplaceAll(o.Name, "—", "?")}} // Latin-1 lacks the dash
	}
	for k := Lowest; k <= Highest; k++ {
		for t := 0; t < len(r.Steps); t++ {
			if r.Steps[t].Has(k) && (t == 0 || !r.Steps[t-1].Has(k)) {
				u := t + 1
				for u < len(r.Steps) && r.Steps[u].Has(k) {
					u++
				}
				want.Notes = append(want.Notes, []int64{1, 0, int64(k), int64(t) * perStep, int64(u) * perStep, int64(velocity)})
			}
		}
	}
	sortNotes(want.Notes)
	return want
}

// sortNotes sorts rows as Python sorts lists: by each value in turn.
func sortNotes(rows [][]int64) {
	for i := 1; i < len(rows); i++ {
		for j := i; j > 0 && less(rows[j], rows[j-1]); j-- {
			rows[j], rows[j-1] = rows[j-1], rows[j]
		}
	}
}

func less(a, b []int64) bool {
	for i := range a {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return false
}
