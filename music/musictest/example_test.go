package musictest_test

import (
	"fmt"
	"os"

	"github.com/dlrun/dlrun/music"
	"github.com/dlrun/dlrun/music/musictest"
)

func ExampleWrite() {
	dir, err := os.MkdirTemp("", "musictest")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	if err := musictest.Write(dir, 2); err != nil {
		panic(err)
	}
	song, err := music.ReadFile(dir + "/p1.mid")
	if err != nil {
		panic(err)
	}
	roll, _, err := song.Roll(music.Quarter)
	if err != nil {
		panic(err)
	}
	fmt.Println(len(roll.Steps), roll.Notes()[0])
	// Output: 13 [49 53 56]
}
