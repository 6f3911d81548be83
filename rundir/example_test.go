package rundir_test

import (
	"fmt"
	"math"

	"github.com/dlrun/dlrun/rundir"
)

// A metrics.csv written and read back; an empty cell is a figure the row
// lacks.
func ExampleTable() {
	t := rundir.NewTable("steps", "mean_return", "seconds")
	t.Append(1000, math.NaN(), 0.5)
	t.Append(2000, 21.5, 0.25)
	b := t.Encode()
	fmt.Print(string(b))
	back, err := rundir.ParseMetrics(b)
	fmt.Println(back.Column("mean_return")[1], err)
	// Output:
	// steps,mean_return,seconds
	// 1000,,0.500
	// 2000,21.5,0.250
	// 21.5 <nil>
}

// A JSON file that sets a key twice is refused, naming the key.
func ExampleDecodeJSON() {
	var cfg map[string]any
	err := rundir.DecodeJSON([]byte(`{"model": "cnn", "agent": {"env": "cartpole", "env": "connect4"}}`), &cfg)
	fmt.Println(err)
	// Output:
	// agent.env: key set twice
}
