package train

import (
	"fmt"
	"sort"
	"strings"

	"github.com/dlrun/dlrun/graph"
)

// Loss is a training objective over a model's raw outputs (logits).
// Targets are made from integer labels: one-hot rows for a model with
// several outputs, the label itself (0 or 1) for a model with one output.
type Loss struct {
	Name string         // the short name: cce, bce or mse
	Kind graph.LossKind // the graph op that computes it
}

// The built-in losses.
var (
	// CrossEntropy is categorical cross-entropy from logits (softmax is
	// part of the loss, computed stably via log-softmax).
	CrossEntropy = Loss{"cce", graph.SoftmaxCrossEntropy}
	// BinaryCrossEntropy is binary cross-entropy from logits (sigmoid is
	// part of the loss), averaged over outputs.
	BinaryCrossEntropy = Loss{"bce", graph.SigmoidCrossEntropy}
	// MeanSquaredError is the mean over outputs of (output - target)².
	MeanSquaredError = Loss{"mse", graph.SquaredError}
)

var lossAliases = map[string]Loss{
	"cce": CrossEntropy, "categorical_crossentropy": CrossEntropy, "crossentropy": CrossEntropy, "cross_entropy": CrossEntropy,
	"bce": BinaryCrossEntropy, "binary_crossentropy": BinaryCrossEntropy,
	"mse": MeanSquaredError, "mean_squared_error": MeanSquaredError,
}

// LossByName returns the loss called name (cce, bce, mse, or the Keras
// names categorical_crossentropy, binary_crossentropy, mean_squared_error).
func LossByName(name string) (Loss, error) {
	l, ok := lossAliases[strings.ToLower(name)]
	if !ok {
		var names []string
		for k := range lossAliases {
			names = append(names, k)
		}
		sort.Strings(names)
		return Loss{}, fmt.Errorf("unknown loss %q (known: %s)", name, strings.Join(names, ", "))
	}
	return l, nil
}

// check reports whether the loss fits a model with the given outputs.
func (l Loss) check(outputs int) error {
	if l.Kind == graph.SoftmaxCrossEntropy && outputs < 2 {
		return fmt.Errorf("loss %s needs a model with at least 2 outputs, this one has %d (use bce for one output)", l.Name, outputs)
	}
	return nil
}

// target writes the target row for label into dst (len = outputs).
func (l Loss) target(dst []float64, label int) {
	if len(dst) == 1 {
		dst[0] = float64(label)
		return
	}
	for i := range dst {
		dst[i] = 0
	}
	dst[label] = 1
}

// Predict returns the class a row of outputs stands for: the arg max, or
// for a single output, whether it is on the positive side (logit > 0 for
// bce, value > 0.5 for mse).
func (l Loss) Predict(row []float64) int {
	if len(row) == 1 {
		thr := 0.0
		if l.Kind == graph.SquaredError {
			thr = 0.5
		}
		if row[0] > thr {
			return 1
		}
		return 0
	}
	best := 0
	for i, v := range row {
		if v > row[best] {
			best = i
		}
	}
	return best
}
