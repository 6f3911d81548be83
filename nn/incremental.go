package nn

import (
	"errors"
	"fmt"
)

// An Incremental layer can be built to run a sequence a few steps per
// pass (usually one), keeping between passes what later steps need of
// earlier ones: a causal Attention keeps the keys and values of the steps
// so far (graph.KVCache), a PositionalEmbedding counts them, a Recurrent
// layer carries its state. Text generation then builds the model on one
// step, feeds one token per pass, and pays per token for that token alone.
// Such a layer is also Stateful in train's sense: ResetState starts a new
// sequence. Layers that see every step at once and cannot run so (a
// bidirectional Attention, a Conv1D wider than one step, GlobalAvgPool1D)
// implement it to refuse.
type Incremental interface {
	Layer
	// SetIncremental makes the layer's next Build incremental, for
	// sequences of at most maxLen steps, or, for 0, a Build over whole
	// sequences again. It reports why the layer cannot run incrementally.
	SetIncremental(maxLen int) error
}

// SetIncremental sets every Incremental layer of model, looking inside
// Sequential models and residual blocks, to build incrementally for
// sequences of at most maxLen steps (0: over whole sequences again). Layers
// that do not mix steps (Dense, LayerNorm, GELU, Embedding, ...) need
// nothing. It returns the errors of the layers that refuse, joined.
func SetIncremental(model Layer, maxLen int) error {
	if maxLen < 0 {
		return fmt.Errorf("incremental decoding of at most %d steps: must not be negative", maxLen)
	}
	var errs []error
	for _, l := range AllLayers(model) {
		if in, ok := l.(Incremental); ok {
			if err := in.SetIncremental(maxLen); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// refuseIncremental is the SetIncremental of a layer that cannot run a
// step at a time, for the reason why.
func refuseIncremental(l Layer, maxLen int, why string) error {
	if maxLen == 0 {
		return nil
	}
	return fmt.Errorf("%s (%s) cannot run a step at a time: %s", l.Name(), l.Kind(), why)
}

// Windowed reports whether model, built incrementally for maxLen steps,
// holds at most maxLen of them (it has an attention, whose cache has that
// many, or positional embeddings, which count them), so that a longer
// sequence must start again (ResetState) on its last steps. A recurrent
// model carries its state on without a limit.
func Windowed(model Layer) bool {
	for _, l := range AllLayers(model) {
		switch l.(type) {
		case *Attention, *PositionalEmbedding:
			return true
		}
	}
	return false
}

// resetter is implemented by the layers that keep state from pass to pass.
type resetter interface{ ResetState() }

// ResetState starts a new sequence in every layer of model that keeps
// state from pass to pass (recurrent layers, attention caches, position
// counters), looking inside Sequential models and residual blocks.
func ResetState(model Layer) {
	for _, l := range AllLayers(model) {
		if r, ok := l.(resetter); ok {
			r.ResetState()
		}
	}
}
