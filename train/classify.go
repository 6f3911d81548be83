package train

import (
	"math/rand/v2"
	"slices"

	"github.com/dlrun/dlrun/graph"
	"github.com/dlrun/dlrun/internal/kernels"
	"github.com/dlrun/dlrun/nn"
	"github.com/pkg/errors"
)

func init() {
	registerTask("classify", func(info *ModelInfo) (Task, error) {
		if info.Outputs < 1 || info.Outputs > MaxClasses {
			return nil, errors.Errorf("outputs %d: a classifier has from 1 to %d", info.Outputs, MaxClasses)
		}
		return &Classify{Shape: info.InputShape, Outputs: info.Outputs}, nil
	})
}

// Classify is the task of classifying examples of a fixed shape (images,
// feature vectors, image rows read as sequences): the model maps
// [batch, Shape...] to [batch, Outputs] logits, targets are one-hot rows
// made from integer labels (the label itself for a single output), and a
// pass is scored by accuracy. Training passes visit the examples in a
// shuffled order; the last batch of a pass is padded with weight-0 rows.
type Classify struct {
	// Shape is the per-example input shape, e.g. [1 28 28].
	Shape []int
	// Outputs is the number of model outputs: the number of classes, or 1
	// for a binary classifier trained with bce or mse (see train.Outputs).
	Outputs int

	g    *graph.Graph
	loss Loss
	shuffledPass
	xT, yT, wT graph.Data
	example    []float32
	target     []float64
	row        []float64
	data       Examples
	idx        []int
	labels     []int
	streamed   // reading a Source (classify_source.go)
}

var _ Task = (*Classify)(nil)

// Outputs returns the number of model outputs a classifier of classes
// classes trained with loss needs: one logit (bce) or one regression
// output (mse) for two classes, else one per class.
func Outputs(loss Loss, classes int) int {
	if loss.Kind != graph.SoftmaxCrossEntropy && classes == 2 {
		return 1
	}
	return classes
}

// Name implements Task.
func (c *Classify) Name() string { return "classify" }

// InputShape implements Task: Shape.
func (c *Classify) InputShape() []int { return append([]int(nil), c.Shape...) }

// OutputSize implements Task: Outputs.
func (c *Classify) OutputSize() int { return c.Outputs }

// checkBuild implements buildChecker: what Build checks before it builds.
func (c *Classify) checkBuild(model nn.Layer, batch int, loss Loss) error {
	if c.Outputs < 1 || c.Outputs > MaxClasses {
		return errors.Errorf("classify: %d outputs: must be 1 to %d (train.MaxClasses)", c.Outputs, MaxClasses)
	}
	if err := CheckInputShape(c.Shape); err != nil {
		return errors.Wrap(err, "classify")
	}
	if err := batchValues("classify", batch, max(size(c.Shape), c.Outputs), "an example's input or targets"); err != nil {
		return err
	}
	if err := loss.check(c.Outputs); err != nil {
		return err
	}
	shape, err := model.OutputShape(c.Shape)
	if err != nil {
		return err
	}
	if len(shape) != 1 || shape[0] != c.Outputs {
		return errors.Errorf("model %s outputs %v per example, want [%d]", model.Name(), shape, c.Outputs)
	}
	return nil
}

// Build implements Task.
func (c *Classify) Build(g *graph.Graph, model nn.Layer, batch int, loss Loss) (out, lossNode *graph.Node, err error) {
	if err := c.checkBuild(model, batch, loss); err != nil {
		return nil, nil, err
	}
	c.g, c.loss, c.batch = g, loss, batch
	x, err := g.Input("x", append([]int{batch}, c.Shape...)...)
	if err != nil {
		return nil, nil, err
	}
	y, err := g.Input("y", batch, c.Outputs)
	if err != nil {
		return nil, nil, err
	}
	w, err := g.Input("weights", batch)
	if err != nil {
		return nil, nil, err
	}
	if out, err = model.Build(g, x); err != nil {
		return nil, nil, err
	}
	if lossNode, err = graph.Loss(loss.Kind, out, y, w); err != nil {
		return nil, nil, err
	}
	if c.xT, c.yT, c.wT, err = inputData(g, x, y, w); err != nil {
		return nil, nil, err
	}
	c.example = make([]float32, size(c.Shape))
	c.target = make([]float64, c.Outputs)
	c.row = make([]float64, c.Outputs)
	return out, lossNode, nil
}

// Check implements Task: d must be Examples or a Source of the task's
// shape with at most as many classes as the model has outputs, each
// example's values finite and its label one of the classes. It reads
// every example of Examples once, into a buffer Build made; the examples
// of a Source are checked as a pass reads them.
func (c *Classify) Check(d Data, role string) error {
	if d == nil || d.Len() == 0 {
		return errors.Errorf("%s data is empty", role)
	}
	e, ok := d.(Examples)
	if src, isSource := d.(Source); !ok && isSource {
		return c.checkShape(src.Shape(), src.NumClasses(), role)
	}
	if !ok {
		return errors.Errorf("%s data (%T) are not labelled examples, which classification needs", role, d)
	}
	if err := c.checkShape(e.Shape(), e.NumClasses(), role); err != nil {
		return err
	}
	return c.checkExamples(e, role)
}

// checkShape reports data of another shape than the task's, or of more
// classes than the model has outputs.
func (c *Classify) checkShape(s []int, k int, role string) error {
	if !slices.Equal(s, c.Shape) {
		return errors.Errorf("%s data has examples of shape %v, the model takes %v", role, s, c.Shape)
	}
	if k > c.Outputs && !(c.Outputs == 1 && k == 2) {
		return errors.Errorf("%s data has %d classes, the model has %d outputs", role, k, c.Outputs)
	}
	return nil
}

// checkExamples reports the first example of e whose label is not one of
// its classes or whose values are not all finite (a NaN pixel would
// train the weights to NaN).
func (c *Classify) checkExamples(e Examples, role string) error {
	if n := size(c.Shape); len(c.example) != n { // Check before Build
		if err := CheckInputShape(c.Shape); err != nil {
			return errors.Wrap(err, "classify")
		}
		c.example = make([]float32, n)
	}
	k := e.NumClasses()
	for i := 0; i < e.Len(); i++ {
		l := e.Example(i, c.example)
		if l < 0 || l >= k {
			return errors.Errorf("%s data: example %d has label %d, outside its %d classes", role, i, l, k)
		}
		if j := nonFinite(c.example); j >= 0 {
			return errors.Errorf("%s data: example %d has value %v at position %d: inputs must be finite", role, i, c.example[j], j)
		}
	}
	return nil
}

// nonFinite returns the index of the first NaN or infinite value of x,
// or -1.
func nonFinite(x []float32) int {
	for j, v := range x {
		if v-v != 0 { // NaN - NaN and Inf - Inf are NaN; a finite v gives 0
			return j
		}
	}
	return -1
}

// Pass implements Task. A pass over a Source starts reading its batches
// ahead (classify_source.go).
func (c *Classify) Pass(d Data, rng *rand.Rand) (int, error) {
	c.endStream()
	e, ok := d.(Examples)
	if src, isSource := d.(Source); !ok && isSource && c.batch != 0 {
		return c.passSource(src, rng), nil
	}
	if !ok || c.batch == 0 {
		return 0, errors.New("classify: Pass needs Examples or a Source, after Build")
	}
	c.data = e
	return c.start(d.Len(), rng), nil
}

// Fill implements Task.
func (c *Classify) Fill(i int) (int, error) {
	if c.stream != nil {
		return c.fillSource(i)
	}
	idx, err := c.indices(i, "classify")
	if err != nil {
		return 0, err
	}
	c.idx = idx
	if c.xT.Float32s() != nil {
		c.labels = fillBatch(c, c.labels[:0], c.xT.Float32s(), c.yT.Float32s(), c.wT.Float32s())
	} else {
		c.labels = fillBatch(c, c.labels[:0], c.xT.Float64s(), c.yT.Float64s(), c.wT.Float64s())
	}
	c.g.SetActiveRows(len(c.idx))
	return len(c.idx), nil
}

// rowExample copies the example of row r of the batch being filled into dst and
// returns its label: from the examples in memory, or from the slot a
// streamed pass read it into.
func (c *Classify) rowExample(r int, dst []float32) int {
	if s := c.slot; s != nil {
		n := len(dst)
		copy(dst, s.x[r*n:(r+1)*n])
		return s.labels[r]
	}
	return c.data.Example(c.idx[r], dst)
}

func fillBatch[T kernels.Float](c *Classify, labels []int, xs, ys, ws []T) []int {
	n, k := len(c.example), c.Outputs
	for r := 0; r < c.batch; r++ {
		x, y := xs[r*n:(r+1)*n], ys[r*k:(r+1)*k]
		if r >= len(c.idx) {
			clear(x)
			clear(y)
			ws[r] = 0
			continue
		}
		var l int
		if x32, ok := any(x).([]float32); ok {
			l = c.rowExample(r, x32) // straight into the batch
		} else {
			l = c.rowExample(r, c.example)
			for j, v := range c.example {
				x[j] = T(v)
			}
		}
		labels = append(labels, l)
		c.loss.target(c.target, l)
		for j, v := range c.target {
			y[j] = T(v)
		}
		ws[r] = 1
	}
	return labels
}

// Metrics implements Task: accuracy.
func (c *Classify) Metrics() []Metric { return []Metric{Accuracy} }

// Score implements Task: it compares each example's predicted class with
// its label.
func (c *Classify) Score(p *graph.Program, ev *Evaluation) ([]float64, error) {
	correct := 0
	for r, l := range c.labels {
		if err := p.OutputRow(0, r, c.row); err != nil {
			return nil, err
		}
		pred := c.loss.Predict(c.row)
		if pred == l {
			correct++
		}
		if ev != nil {
			ev.Labels = append(ev.Labels, l)
			ev.Predictions = append(ev.Predictions, pred)
		}
	}
	return []float64{float64(correct)}, nil
}

// inputData returns the live values of the inputs x, y and w of g.
func inputData(g *graph.Graph, x, y, w *graph.Node) (xd, yd, wd graph.Data, err error) {
	if xd, err = g.InputData(x); err != nil {
		return
	}
	if yd, err = g.InputData(y); err != nil {
		return
	}
	wd, err = g.InputData(w)
	return
}

// size returns the number of values of a tensor of the given shape.
func size(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}
