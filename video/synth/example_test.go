package synth_test

import (
	"fmt"

	"github.com/dlrun/dlrun/video/synth"
)

// Sources are split by name: a source is on one side only, whatever else
// is listed.
func ExampleSplit() {
	train, test := synth.Split(synth.Generators(4), 25)
	fmt.Println(len(train), "training sources,", len(test), "test sources")
	// Output:
	// 15 training sources, 5 test sources
}
