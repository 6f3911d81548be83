// Package explain says why a trained model gave an answer: attribution
// methods in the manner of Captum, PyTorch's attribution library, for every
// kind of model dlrun trains.
//
//   - Classifiers of images and table rows (Explainer.Attribute): gradient
//     saliency, integrated gradients from a black or blurred baseline, and
//     occlusion; HeatMap lays an image's attributions over it as a PNG, and
//     Importance and BarChart give a table's mean absolute attribution per
//     feature over a data set.
//   - Next-token models (Explainer.Text): integrated gradients over the
//     embeddings of the context, one attribution per character for the
//     next one, printed in colour on a terminal (WriteANSI) or as HTML
//     (WriteHTML).
//   - Recommenders (Explainer.Recommendation): the movies the user rated
//     that contributed most to a movie's predicted rating, with their
//     share.
//
// The output explained is a raw output of the model (a class's logit, a
// predicted rating), for the predicted class or a named one (Target).
// Integrated gradients' attributions sum to the output at the input less
// the output at the baseline (completeness); Attribution.Delta says how far
// the quadrature is from it.
//
// An Explainer builds graphs of its own from the model's description,
// sharing the trained weights, with batches as large as a method needs (the
// Steps+2 points of integrated gradients run as one batch); it never
// changes the model. Every function returns an error, never panics, on bad
// input: a wrong shape, a class or token outside the model's, a value that
// is not finite, settings out of range.
package explain

import (
	"fmt"
	"math"

	"github.com/dlrun/dlrun/graph"
	"github.com/dlrun/dlrun/internal/sysmem"
	"github.com/dlrun/dlrun/nn"
	"github.com/dlrun/dlrun/train"
	"github.com/pkg/errors"
)

// ErrKind is wrapped by the error of a method asked of a model of another
// kind than it explains: Text of a classifier, say.
var ErrKind = errors.New("explain: the model is of another kind")

// kindError is the error of a model of the wrong kind: its text, wrapping
// ErrKind.
type kindError string

func (e kindError) Error() string { return string(e) }
func (e kindError) Unwrap() error { return ErrKind }

// checkTask returns a kindError unless the model was trained for task
// (what names the task in the error).
func (e *Explainer) checkTask(task, what string) error {
	if e.info.Task != task {
		return kindError(fmt.Sprintf("explain: model %s was trained for %s, not %s", e.info.Model.Name, e.info.Task, what))
	}
	return nil
}

// checkValues returns a kindError if no attribution over the model's input
// values can be honest: the model reads some of its input as category
// indices (a table's column_embedding: integrated gradients and occlusion
// would move an index between categories, and its gradient is none), or
// computes signals from its input that no gradient flows back through
// (frame_changes), so attributions would not add up to the output.
func (e *Explainer) checkValues() error {
	for _, l := range e.info.Model.Layers {
		switch l.Kind {
		case "column_embedding":
			return kindError(fmt.Sprintf("explain: model %s reads category indices (column_embedding), which attributions over its input values do not explain; explain a model that one-hot encodes its categories", e.info.Model.Name))
		case "frame_changes":
			return kindError(fmt.Sprintf("explain: model %s computes change signals from its frames (frame_changes), through which no gradient flows, so attributions over its input would not add up to its output", e.info.Model.Name))
		}
	}
	return nil
}

// Explainer explains the outputs of one trained model. Make one with New;
// it is not safe for concurrent use.
type Explainer struct {
	info *train.ModelInfo
	loss train.Loss
	from *graph.Graph
	nets map[netKey]*net
}

// New returns an Explainer of the model that t holds (a trainer after Fit,
// or train.Model.Trainer of a loaded model). It reads t's weights as they
// are at each call, without copying them. The model must be one that
// model.json can describe (an nn.Sequential of registered layers).
func New(t *train.Trainer) (*Explainer, error) {
	if t == nil {
		return nil, errors.New("explain: nil trainer")
	}
	info, err := t.Info()
	if err != nil {
		return nil, errors.Wrap(err, "explain")
	}
	return &Explainer{info: info, loss: t.Loss(), from: t.Graph(), nets: map[netKey]*net{}}, nil
}

// Info returns the description of the model explained.
func (e *Explainer) Info() train.ModelInfo { return *e.info }

// Close releases the Explainer's graphs.
func (e *Explainer) Close() error {
	for k, n := range e.nets {
		n.close()
		delete(e.nets, k)
	}
	return nil
}

// maxNets bounds the graphs an Explainer keeps: one per batch size and
// input shape it has run.
const maxNets = 4

// maxRows is the largest batch an Explainer runs, and batchBudget the
// most values (activations and their gradients) a batch may hold.
const (
	maxRows     = 128
	batchBudget = 1 << 26
)

type netKey struct {
	batch    int
	shape    string
	quantity Quantity
}

// net is the model built on a graph of its own for batches of a fixed
// size, sharing the trained weights, with its embeddings tapped.
type net struct {
	g       *graph.Graph
	x       *graph.Node
	out     *graph.Node
	taps    []graph.Tap
	state   []train.Stateful
	batch   int
	inSize  int // values per row of x
	outSize int // values per row of out

	gradX, gradTaps *graph.Gradients // compiled at first use
	fwd, ids        *graph.Program
}

func (n *net) close() {
	n.gradX.Close()
	n.gradTaps.Close()
	n.fwd.Close()
	n.ids.Close()
}

// net returns the model built for batches of batch examples of shape,
// its output the quantity q of the model's outputs (the logits, or their
// probabilities).
func (e *Explainer) net(batch int, shape []int, q Quantity) (*net, error) {
	key := netKey{batch, fmt.Sprint(shape), q}
	if n, ok := e.nets[key]; ok {
		return n, nil
	}
	model, err := e.info.Model.Build()
	if err != nil {
		return nil, errors.Wrap(err, "explain: rebuilding the model")
	}
	g := graph.New(graph.WithDType(e.from.DType()))
	x, err := g.Input("x", append([]int{batch}, shape...)...)
	if err != nil {
		return nil, err
	}
	n := &net{g: g, x: x, batch: batch, inSize: size(shape)}
	if n.taps, err = g.TapEmbeddings(func() (err error) {
		n.out, err = model.Build(g, x)
		return err
	}); err != nil {
		return nil, errors.Wrapf(err, "explain: building model %s", e.info.Model.Name)
	}
	if q == Probability {
		if n.out, err = e.probabilities(n.out); err != nil {
			return nil, err
		}
	}
	if err := g.ShareValues(e.from); err != nil {
		return nil, errors.Wrap(err, "explain: the model's weights")
	}
	n.outSize = n.out.Shape().TotalSize() / batch
	n.state = train.StatefulLayers(model)
	if len(e.nets) >= maxNets {
		for k, old := range e.nets {
			old.close()
			delete(e.nets, k)
			break
		}
	}
	e.nets[key] = n
	return n, nil
}

// probabilities returns the node of the probabilities of logits, as the
// model's loss makes them: softmax for cce, sigmoid for bce.
func (e *Explainer) probabilities(logits *graph.Node) (*graph.Node, error) {
	switch e.loss.Kind {
	case graph.SoftmaxCrossEntropy:
		return graph.Softmax(logits)
	case graph.SigmoidCrossEntropy:
		return graph.Sigmoid(logits)
	}
	return nil, errors.Errorf("explain: model %s was trained with %s, whose outputs are no probabilities: explain its logits", e.info.Model.Name, e.loss.Name)
}

// availableMemory is sysmem.Available, replaced by tests.
var availableMemory = sysmem.Available

// batchFor returns the batch size for rows rows of shape: at most maxRows
// and batchBudget values, after checking that a batch fits in memory.
func (e *Explainer) batchFor(shape []int, rows int) (int, error) {
	model, err := e.info.Model.Build()
	if err != nil {
		return 0, errors.Wrap(err, "explain: rebuilding the model")
	}
	per, err := nn.BatchValues(model, shape, 1)
	if err != nil {
		return 0, errors.Wrapf(err, "explain: model %s on input %v", e.info.Model.Name, shape)
	}
	per = max(per, 1)
	batch := min(rows, maxRows, int(max(1, batchBudget/per)))
	dsize := int64(4)
	if e.from.DType() == graph.Float64 {
		dsize = 8
	}
	need := 2 * dsize * per * int64(batch) // the batch's values, and the gradients' tape beside them
	if have, source, ok := availableMemory(); ok && need+need/4 > have {
		return 0, errors.Errorf("explain: model %s on input %v needs about %.1f MiB for a batch of %d, more than the %.1f MiB this process may still use (%s): use a shorter input",
			e.info.Model.Name, shape, float64(need)/(1<<20), batch, float64(have)/(1<<20), source)
	}
	return batch, nil
}

// A request runs the model over rows, in batches: each row's input, the
// values its tapped embedding rows take, the output whose gradient is
// wanted, and what to do with the outputs and gradients.
type request struct {
	shape    []int // the per-example input shape
	quantity Quantity
	rows     int
	// batch is the least batch to run them in (0: rows): requests of a
	// few rows each, one after another, share the graph of the largest.
	batch int
	// input writes row r's input (token or user and movie ids where the
	// taps are moved).
	input func(r int, x []float64)
	// taps selects the tapped embeddings whose rows are moved and
	// differentiated; nil differentiates the input itself.
	taps func(t graph.Tap, x *graph.Node) bool
	// point writes row r's rows of the selected taps, one after another;
	// nil leaves them as looked up.
	point func(r int, p []float64)
	// seed returns the output (an index into a row's outputs) whose
	// gradient row r wants, and its sign; nil runs forward passes alone.
	seed func(r int) (index int, sign float64)
	// visit receives row r's outputs and, with seed, its gradient with
	// respect to the input or the selected taps' rows.
	visit func(r int, out, grad []float64) error
}

// do runs req.
func (e *Explainer) do(req request) error {
	if req.rows == 0 {
		return nil
	}
	batch, err := e.batchFor(req.shape, max(req.rows, req.batch))
	if err != nil {
		return err
	}
	n, err := e.net(batch, req.shape, req.quantity)
	if err != nil {
		return err
	}
	// The gradients visited: of the input, or of the selected taps.
	var sel, sizes []int
	if req.taps != nil {
		for i, t := range n.taps {
			if req.taps(t, n.x) {
				sel = append(sel, i)
				sizes = append(sizes, t.Shift.Shape().TotalSize()/batch)
			}
		}
		if len(sel) == 0 {
			return errors.Errorf("explain: model %s has no embedding to attribute to", e.info.Model.Name)
		}
	}
	grads, err := n.gradients(req.seed != nil, req.taps != nil)
	if err != nil {
		return err
	}
	pts := &points{sel: sel, sizes: sizes, shifts: make([][]float64, len(n.taps))}
	for i, t := range n.taps {
		pts.shifts[i] = make([]float64, t.Shift.Shape().TotalSize())
	}
	if req.point != nil {
		for _, i := range sel {
			pts.tables = append(pts.tables, e.from.ParamByName(n.taps[i].Table.Name()).Values())
		}
		pts.p = make([]float64, sum(sizes))
	}
	which, widths := sel, sizes
	if req.taps == nil {
		which, widths = []int{0}, []int{n.inSize}
	}
	xs := make([]float64, batch*n.inSize)
	seed := make([]float64, batch*n.outSize)
	grad := make([]float64, sum(widths))
	for lo := 0; lo < req.rows; lo += batch {
		hi := min(lo+batch, req.rows)
		clear(xs)
		for r := lo; r < hi; r++ {
			req.input(r, xs[(r-lo)*n.inSize:(r-lo+1)*n.inSize])
		}
		if err := n.g.SetInput(n.x, xs); err != nil {
			return err
		}
		if err := n.shift(pts, lo, hi, req.point); err != nil {
			return err
		}
		for _, s := range n.state {
			s.ResetState()
		}
		var out []float64
		var gs [][]float64
		if req.seed == nil {
			if _, err := n.fwd.Run(false); err != nil {
				return err
			}
			if out, err = n.fwd.Output(0); err != nil {
				return err
			}
		} else {
			clear(seed)
			for r := lo; r < hi; r++ {
				k, sign := req.seed(r)
				seed[(r-lo)*n.outSize+k] = sign
			}
			if err := grads.SetSeed(seed); err != nil {
				return err
			}
			if err := grads.Run(); err != nil {
				return err
			}
			if out, err = grads.Output(); err != nil {
				return err
			}
			for _, i := range which {
				d, err := grads.Gradient(i)
				if err != nil {
					return err
				}
				gs = append(gs, d)
			}
		}
		for r := lo; r < hi; r++ {
			var g []float64
			if gs != nil {
				g = grad[:0]
				for j, d := range gs {
					g = append(g, d[(r-lo)*widths[j]:(r-lo+1)*widths[j]]...)
				}
			}
			if err := req.visit(r, out[(r-lo)*n.outSize:(r-lo+1)*n.outSize], g); err != nil {
				return err
			}
		}
	}
	return nil
}

// gradients returns the pass do needs: forward alone (nil), or the
// gradients with respect to the input or to every tap.
func (n *net) gradients(seeded, taps bool) (gr *graph.Gradients, err error) {
	switch {
	case !seeded:
		if n.fwd == nil {
			n.fwd, err = n.g.CompileForward(n.out)
		}
		return nil, err
	case taps:
		if n.gradTaps == nil {
			wrt := make([]*graph.Node, len(n.taps))
			for i, t := range n.taps {
				wrt[i] = t.Shift
			}
			n.gradTaps, err = n.g.CompileGradients(n.out, wrt...)
		}
		return n.gradTaps, err
	}
	if n.gradX == nil {
		n.gradX, err = n.g.CompileGradients(n.out, n.x)
	}
	return n.gradX, err
}

// points holds what moving the rows of tapped embeddings takes: the taps
// selected (sel, indices into net.taps) with their values per example
// (sizes) and tables, a shift buffer per tap and one point.
type points struct {
	sel, sizes []int
	tables     [][]float64
	shifts     [][]float64
	p          []float64
}

// shift sets the shift of every tap for rows lo to hi of a batch whose
// input is bound: zeros, or, for the selected taps where point is not nil,
// the point less the rows looked up, so that the model reads the point.
func (n *net) shift(pts *points, lo, hi int, point func(int, []float64)) error {
	for _, s := range pts.shifts {
		clear(s)
	}
	if point != nil {
		if err := n.moved(pts, lo, hi, point); err != nil {
			return err
		}
	}
	for i, t := range n.taps {
		if err := n.g.SetInput(t.Shift, pts.shifts[i]); err != nil {
			return err
		}
	}
	return nil
}

// moved fills the selected taps' shifts for rows lo to hi: each row's
// point less the table rows its ids look up.
func (n *net) moved(pts *points, lo, hi int, point func(int, []float64)) error {
	if n.ids == nil {
		ids := make([]*graph.Node, len(n.taps))
		for i, t := range n.taps {
			ids[i] = t.IDs
		}
		var err error
		if n.ids, err = n.g.CompileForward(ids...); err != nil {
			return err
		}
	}
	if _, err := n.ids.Run(false); err != nil {
		return err
	}
	ids := make([][]float64, len(pts.sel))
	for j, i := range pts.sel {
		var err error
		if ids[j], err = n.ids.Output(i); err != nil {
			return err
		}
	}
	for r := lo; r < hi; r++ {
		point(r, pts.p)
		off := 0
		for j, i := range pts.sel {
			dim, width := n.taps[i].Table.Shape()[1], pts.sizes[j]
			per := width / dim // ids per example
			s, table := pts.shifts[i][(r-lo)*width:], pts.tables[j]
			for q := range per {
				id := int(ids[j][(r-lo)*per+q])
				for d := range dim {
					s[q*dim+d] = pts.p[off+q*dim+d] - table[id*dim+d]
				}
			}
			off += width
		}
	}
	return nil
}

func sum(v []int) int {
	s := 0
	for _, x := range v {
		s += x
	}
	return s
}

// size returns the number of values of a shape.
func size(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// finite returns an error naming the first value of x that is not finite.
func finite(what string, x []float32) error {
	for i, v := range x {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return errors.Errorf("%s: value %d is %v, not a finite number", what, i, v)
		}
	}
	return nil
}
