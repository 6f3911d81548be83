package run

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

// notFiniteError returns the error of epoch whose what became v.
func notFiniteError(epoch int, what string, v float64) error {
	return &notFinite{fmt.Sprintf("epoch %d: %s became %v, so nothing of epoch %d was saved", epoch, what, v, epoch)}
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
			return notFiniteError(s.Epoch, "the "+f.name, f.v)
		}
	}
	for _, p := range g.Params() {
		d := p.Data()
		if i, v, ok := firstNonFinite(d.Float32s(), d.Float64s()); ok {
			return notFiniteError(s.Epoch, fmt.Sprintf("weight %s[%d]", p.Name, i), v)
		}
	}
	for _, b := range g.Buffers() {
		f32, _ := b.Data().([]float32)
		f64, _ := b.Data().([]float64)
		if i, v, ok := firstNonFinite(f32, f64); ok {
			return notFiniteError(s.Epoch, fmt.Sprintf("buffer %s[%d]", b.Name, i), v)
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
