package train

import (
	"fmt"

	"github.com/dlrun/dlrun/graph"
	"github.com/dlrun/dlrun/internal/sysmem"
	"github.com/dlrun/dlrun/nn"
	"github.com/pkg/errors"
)

// ErrNoMemory is wrapped by New's error for a training that would need
// more memory than the process may still reserve.
var ErrNoMemory = errors.New("not enough memory")

// Memory is an estimate of the memory, in bytes, that training a model
// takes, by part (EstimateMemory).
type Memory struct {
	// Params is the parameters and their gradients, in the graph's dtype.
	Params int64
	// State is the optimizer's state (float64 values per parameter:
	// two for Adam, see StateSizer) and, for an update that is not made
	// in place (clipping, weight decay), a float64 copy of every
	// parameter and gradient.
	State int64
	// Checkpoint is what saving a checkpoint holds beside the rest: a
	// copy of the parameters and the optimizer's state, and the bytes of
	// the file.
	Checkpoint int64
	// Batch is one batch's values: the task's inputs, targets and loss,
	// every layer's outputs and their gradients, and the ops' working
	// memory (nn.BatchValues).
	Batch int64
}

// Total returns the sum of the parts.
func (m Memory) Total() int64 { return m.Params + m.State + m.Checkpoint + m.Batch }

// StateSizer is implemented by optimizers that say how many float64
// values of state they keep per parameter (Adam two, its moments;
// momentum, RMSProp and AdaGrad one; SGD none). EstimateMemory counts an
// optimizer without it as keeping two.
type StateSizer interface {
	StatePerParam() int
}

// StatePerParam implements StateSizer: none.
func (o *SGD) StatePerParam() int { return 0 }

// StatePerParam implements StateSizer: the velocity.
func (o *Momentum) StatePerParam() int { return 1 }

// StatePerParam implements StateSizer: the two moments.
func (o *Adam) StatePerParam() int { return 2 }

// StatePerParam implements StateSizer: the running mean square.
func (o *RMSProp) StatePerParam() int { return 1 }

// StatePerParam implements StateSizer: the sum of squares.
func (o *AdaGrad) StatePerParam() int { return 1 }

var (
	_ StateSizer = (*SGD)(nil)
	_ StateSizer = (*Momentum)(nil)
	_ StateSizer = (*Adam)(nil)
	_ StateSizer = (*RMSProp)(nil)
	_ StateSizer = (*AdaGrad)(nil)
)

// buildChecker is implemented by the tasks that can make the checks of
// their Build (shapes, limits, the loss) without building anything, so
// that New reports them before it estimates the memory.
type buildChecker interface {
	checkBuild(model nn.Layer, batch int, loss Loss) error
}

var (
	_ buildChecker = (*Classify)(nil)
	_ buildChecker = (*NextToken)(nil)
	_ buildChecker = (*Rating)(nil)
	_ buildChecker = (*NextStep)(nil)
	_ buildChecker = (*Regress)(nil)
)

// batchMemory is implemented by the tasks that count what they add to a
// graph for a batch: inputs, targets, weights and the loss's values.
type batchMemory interface {
	batchValues(batch int) int64
}

func (c *Classify) batchValues(batch int) int64 {
	return int64(batch) * int64(size(c.Shape)+2*c.Outputs+1)
}

func (t *NextToken) batchValues(batch int) int64 {
	return int64(batch) * int64(size(t.InputShape())) * int64(2+4*t.Vocab)
}

func (r *Rating) batchValues(batch int) int64 { return int64(batch) * 5 }

func (t *NextStep) batchValues(batch int) int64 {
	return int64(batch) * int64(t.SeqLen) * int64(5*t.Width+1)
}
func (r *Regress) batchValues(batch int) int64 { return int64(batch) * int64(size(r.Shape)+3) }

// EstimateMemory returns an estimate of the memory that training model
// for task with cfg takes (Memory), from their shapes alone: nothing is
// built or allocated, so a model far too large for the machine is refused
// before it takes any (New does). Each layer counts its batch's values
// through nn.BatchValues (a layer kind of one's own says its count by
// implementing nn.BatchMemory); the estimate agrees with the built graph's
// (graph.Program.MemoryEstimate) within a few per cent for every layer
// kind dlrun registers. A task of one's own is counted as its inputs and
// three values per output. The task's own checks of the model and batch
// come first, as in New.
func EstimateMemory(model nn.Layer, task Task, cfg Config) (Memory, error) {
	if isNil(model) || isNil(task) {
		return Memory{}, errors.New("train: EstimateMemory of a nil model or task")
	}
	cfg = cfg.Defaults()
	p, err := cfg.resolve()
	if err != nil {
		return Memory{}, err
	}
	if c, ok := task.(buildChecker); ok {
		if err := c.checkBuild(model, cfg.BatchSize, p.loss); err != nil {
			return Memory{}, err
		}
	}
	return estimate(model, task, cfg.BatchSize, p)
}

// estimate is EstimateMemory for batches of batch rows with the resolved
// parts p.
func estimate(model nn.Layer, task Task, batch int, p parts) (Memory, error) {
	in := task.InputShape()
	layers, err := nn.BatchValues(model, in, batch)
	if err != nil {
		return Memory{}, errors.Wrapf(err, "model %s", model.Name())
	}
	var io int64
	if t, ok := task.(batchMemory); ok {
		io = t.batchValues(batch)
	} else {
		io = int64(batch) * int64(size(in)+3*task.OutputSize())
	}
	dsize := int64(4)
	if p.dtype == graph.Float64 {
		dsize = 8
	}
	params := int64(model.NumParams(in))
	slots := int64(2)
	if s, ok := p.opt.(StateSizer); ok {
		slots = int64(s.StatePerParam())
	}
	state := 8 * slots * params
	if o, ok := p.opt.(inPlaceStepper); !ok || !o.fusable() {
		state += 16 * params // Minimizer's float64 values and gradients
	}
	return Memory{
		Params:     2 * dsize * params,
		State:      state,
		Checkpoint: 2 * (dsize + 8*slots) * params,
		Batch:      dsize * (layers + io),
	}, nil
}

// availableMemory is sysmem.Available, replaced by tests.
var availableMemory = sysmem.Available

// fits returns nil if need bytes, with a quarter to spare (Go's heap
// grows past what it holds), fit in what the process may still reserve
// (sysmem.Available), and otherwise an error wrapping ErrNoMemory:
// "WHO needs about N of memory (DETAIL), more than the M this process may
// still use (SOURCE): ADVICE". advice is given the bytes available. Where
// nothing is known about the memory, everything fits.
func fits(need int64, who, detail string, advice func(have int64) string) error {
	have, source, ok := availableMemory()
	if !ok || roomFor(need) <= have {
		return nil
	}
	if detail != "" {
		detail = " (" + detail + ")"
	}
	return noMemoryError(fmt.Sprintf("%s needs about %s of memory%s, more than the %s this process may still use (%s): %s",
		who, gib(need), detail, gib(have), source, advice(have)))
}

// roomFor returns the memory to have free for need bytes: a quarter more.
func roomFor(need int64) int64 { return need + need/4 }

// lowerTheBatch is the advice for a batch too large.
func lowerTheBatch(int64) string { return "lower the batch size (or the sequence length)" }

// noMemoryError is fits's error.
type noMemoryError string

func (e noMemoryError) Error() string { return string(e) }
func (e noMemoryError) Unwrap() error { return ErrNoMemory }

// check refuses a training of model for batches of batch rows that m says
// would not fit, in one line naming the parts and what to change: the
// model, when its parameters alone do not fit, otherwise the batch.
func (m Memory) check(model string, batch int, params int) error {
	weights := m.Params + m.State + m.Checkpoint
	detail := fmt.Sprintf("%s for %s parameters, their gradients, the optimizer's state and a checkpoint; %s for a batch of %d",
		gib(weights), thousands(params), gib(m.Batch), batch)
	return fits(m.Total(), "model "+model+": training", detail, func(have int64) string {
		if roomFor(weights) > have {
			return "make the model smaller"
		}
		return lowerTheBatch(have)
	})
}

// thousands writes n with commas between groups of three digits.
func thousands(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// gib writes n bytes in GiB, to one decimal (MiB below a tenth of one).
func gib(n int64) string {
	if n < 1<<30/10 {
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
}
