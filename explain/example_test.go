package explain_test

import (
	"fmt"

	"github.com/dlrun/dlrun/explain"
	"github.com/dlrun/dlrun/nn"
	"github.com/dlrun/dlrun/train"
)

// A classifier of three features, its weights set by hand: integrated
// gradients from the zero row say how much each feature adds to the
// predicted class's logit, and they add up to it.
func Example() {
	t, err := train.New(nn.NewSequential("linear", nn.NewDense(2)), &train.Classify{Shape: []int{3}, Outputs: 2}, train.Config{DType: "float64"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer t.Close()
	// Logits: x·W, W's columns (1 -2 3) and (0.5 4 -1).
	if err := t.Graph().ParamByName("dense1.weight").SetValues([]float64{1, 0.5, -2, 4, 3, -1}); err != nil {
		fmt.Println(err)
		return
	}
	e, err := explain.New(t)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer e.Close()
	a, err := e.Attribute([]float32{2, 1, 0.5}, explain.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("class %d: logit %.2f, %.2f at the baseline\n", a.Class, a.Output, *a.BaselineOutput)
	fmt.Printf("attributions %.2f, summing to %.2f\n", a.Values, a.Sum())
	// Output:
	// class 1: logit 4.50, 0.00 at the baseline
	// attributions [1.00 4.00 -0.50], summing to 4.50
}

// A next-token model whose logits come from the last token alone: the
// attributions say so.
func ExampleExplainer_Text() {
	model := nn.NewSequential("bigram", nn.NewEmbedding(3, 2), nn.NewDense(3))
	t, err := train.New(model, &train.NextToken{Vocab: 3, SeqLen: 4}, train.Config{DType: "float64"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer t.Close()
	for name, v := range map[string][]float64{
		"embedding1.weight": {1, 0, 0, 1, 2, -1},
		"dense1.weight":     {1, 0, -1, 0, 1, 2},
		"dense1.bias":       {0, 0, 0},
	} {
		if err := t.Graph().ParamByName(name).SetValues(v); err != nil {
			fmt.Println(err)
			return
		}
	}
	e, err := explain.New(t)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer e.Close()
	a, err := e.Text([]int{0, 2, 1}, []string{"a", "b", "c"}, explain.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("after %q comes %q\n", a.Tokens, a.Next)
	fmt.Printf("attributions %.2f\n", a.Values)
	// Output:
	// after ["a" "c" "b"] comes "c"
	// attributions [0.00 0.00 2.00]
}
