package music_test

import (
	"bytes"
	"fmt"

	"github.com/dlrun/dlrun/music"
)

// A roll written as MIDI and read back: the C major chord held over two
// steps is one note a key in the file.
func Example() {
	r, err := music.FromNotes([][]int{{60, 64, 67}, {60, 64, 67}, {62, 65, 71}, {}}, music.Quarter)
	if err != nil {
		panic(err)
	}
	r.Tempo = 90
	var buf bytes.Buffer
	if err := music.Write(&buf, r, music.WriteOptions{Name: "cadence"}); err != nil {
		panic(err)
	}
	song, err := music.Parse("cadence.mid", buf.Bytes())
	if err != nil {
		panic(err)
	}
	for _, n := range song.Notes {
		fmt.Printf("%s from tick %d to %d\n", music.NoteName(n.Key), n.Start, n.End)
	}
	back, _, _ := song.Roll(music.Quarter)
	fmt.Printf("%.0f quarter notes a minute, %s, %d steps: %v\n", song.Tempo, song.Meter, len(back.Steps), back.Notes())
	// Output:
	// C4 from tick 0 to 960
	// E4 from tick 0 to 960
	// G4 from tick 0 to 960
	// D4 from tick 960 to 1440
	// F4 from tick 960 to 1440
	// B4 from tick 960 to 1440
	// 90 quarter notes a minute, 4/4, 4 steps: [[60 64 67] [60 64 67] [62 65 71] []]
}

func ExampleMeasure() {
	r, _ := music.FromNotes([][]int{{57, 60, 64}, {59, 62, 65, 68}, {57, 60, 64, 69}, {61}}, music.Quarter)
	scale, held := music.BestScale(r)
	fmt.Println(scale, held)
	fmt.Println(music.Measure([]*music.Roll{r}))
	// Output:
	// A harmonic minor 11
	// 1 pieces, 4 steps, 12 notes: 3 or 4 notes sound at 75.0% of the steps; 91.7% of the notes lie in their piece's scale
}

func ExampleParseGrid() {
	g, err := music.ParseGrid("16th")
	fmt.Println(g, int(g), err)
	_, err = music.ParseGrid("32nd")
	fmt.Println(err)
	// Output:
	// 16th 4 <nil>
	// grid "32nd": unknown grid: want quarter, 8th or 16th
}
