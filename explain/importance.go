package explain

import (
	"math"

	"github.com/pkg/errors"
)

// importanceChunk is how many examples Importance explains together.
const importanceChunk = 64

// Importance returns the mean absolute attribution of each input value
// (a table's features) over the examples xs, each explained as Attribute
// does, for its predicted class or opt.Target: a global importance, what
// BarChart draws. It explains xs a few at a time, so that xs may be a
// whole data set.
func (e *Explainer) Importance(xs [][]float32, opt Options) ([]float64, error) {
	if len(xs) == 0 {
		return nil, errors.New("explain: importance over no examples")
	}
	for i, x := range xs {
		if err := e.checkExample(i, x); err != nil {
			return nil, err
		}
	}
	var mean []float64
	for lo := 0; lo < len(xs); lo += importanceChunk {
		as, err := e.AttributeAll(xs[lo:min(lo+importanceChunk, len(xs))], opt)
		if err != nil {
			return nil, err
		}
		if mean == nil {
			mean = make([]float64, len(as[0].Values))
		}
		for _, a := range as {
			for j, v := range a.Values {
				mean[j] += math.Abs(v)
			}
		}
	}
	for j := range mean {
		mean[j] /= float64(len(xs))
	}
	return mean, nil
}
