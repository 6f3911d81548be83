package runner

import (
	"fmt"
	"math"
	"sort"

	"github.com/dlrun/dlrun/graph"
	"github.com/dlrun/dlrun/train"
	"github.com/pkg/errors"
)

// ErrNotFinite is wrapped by the error that stops a run whose loss, a
// metric, a weight or a buffer became NaN or infinite. Nothing of such an
// epoch is saved: model.safetensors, best.safetensors and the checkpoint
// keep the last epoch whose figures and weights were all finite.
var ErrNotFinite = errors.New("not finite")

// notFinite is the error of an epoch that checkFinite refuses; it is
// ErrNotFinite.
type notFinite struct{ msg string }

func (e *notFinite) Error() string        { return e.msg }
func (e *notFinite) Is(target error) bool { return target == ErrNotFinite }

// notFiniteError returns the error of step (epoch 3) whose what became v.
func notFiniteError(step, what string, v float64) error {
	return &notFinite{fmt.Sprintf("%s: %s became %v, so nothing of %s was saved", step, what, v, step)}
}

// checkFinite returns an error wrapping ErrNotFinite naming the first
// figure of epoch s (losses first, then metrics by name) or the first
// parameter or buffer of g that is NaN or infinite.
func checkFinite(s train.EpochStats, g *graph.Graph) error {
	figures := []struct {
		name string
		v    float64
	}{{"training loss", s.TrainLoss}, {"test loss", s.TestLoss}}
	names := make([]string, 0, len(s.Metrics))
	for k := range s.Metrics {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		figures = append(figures, struct {
			name string
			v    float64
		}{k, s.Metrics[k]})
	}
	for _, f := range figures {
		if !isFinite(f.v) {
			return notFiniteError(fmt.Sprintf("epoch %d", s.Epoch), "the "+f.name, f.v)
		}
	}
	return checkFiniteGraph(fmt.Sprintf("epoch %d", s.Epoch), g)
}

// checkFiniteGraph returns an error wrapping ErrNotFinite naming the first
// parameter or buffer of g that is NaN or infinite after step (epoch 3,
// step 4000).
func checkFiniteGraph(step string, g *graph.Graph) error {
	for _, p := range g.Params() {
		d := p.Data()
		if i, v, ok := firstNonFinite(d.Float32s(), d.Float64s()); ok {
			return notFiniteError(step, fmt.Sprintf("weight %s[%d]", p.Name, i), v)
		}
	}
	for _, b := range g.Buffers() {
		f32, _ := b.Data().([]float32)
		f64, _ := b.Data().([]float64)
		if i, v, ok := firstNonFinite(f32, f64); ok {
			return notFiniteError(step, fmt.Sprintf("buffer %s[%d]", b.Name, i), v)
		}
	}
	return nil
}

func isFinite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// firstNonFinite returns the index and value of the first NaN or infinite
// element of f32 and then f64.
func firstNonFinite(f32 []float32, f64 []float64) (int, float64, bool) {
	for i, v := range f32 {
		if v-v != 0 { // NaN or ±Inf
			return i, float64(v), true
		}
	}
	for i, v := range f64 {
		if v-v != 0 {
			return i, v, true
		}
	}
	return 0, 0, false
}
