package run

import (
	"bytes"
	"math"

	"github.com/dlrun/dlrun/internal/atomicfile"
	"github.com/dlrun/dlrun/rl"
	"github.com/dlrun/dlrun/train"
	"github.com/pkg/errors"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// WriteCurves draws the loss and the task's first metric (accuracy, RMSE)
// of rows, training and test, per epoch, side by side, and writes them to
// path as a PNG (atomically).
func WriteCurves(path, title string, rows []train.EpochStats, metric train.Metric) error {
	mk := func(name string, trainOf, testOf func(train.EpochStats) float64) (*plot.Plot, error) {
		p := plot.New()
		p.Title.Text = title + ": " + name
		p.X.Label.Text = "epoch"
		p.Y.Label.Text = name
		tr, te := make(plotter.XYs, len(rows)), make(plotter.XYs, len(rows))
		for i, r := range rows {
			tr[i] = plotter.XY{X: float64(r.Epoch), Y: trainOf(r)}
			te[i] = plotter.XY{X: float64(r.Epoch), Y: testOf(r)}
		}
		if err := plotutil.AddLinePoints(p, "train", tr, "test", te); err != nil {
			return nil, err
		}
		// Keep the legend in the corner the curves leave: loss (and any
		// metric that improves downwards) falls, accuracy rises.
		p.Legend.Top = !metric.HigherIsBetter || name == "loss"
		return p, nil
	}
	loss, err := mk("loss", func(r train.EpochStats) float64 { return r.TrainLoss }, func(r train.EpochStats) float64 { return r.TestLoss })
	if err != nil {
		return errors.Wrap(err, "drawing the loss curve")
	}
	value := func(name string) func(train.EpochStats) float64 {
		return func(r train.EpochStats) float64 { v, _ := r.Value(name); return v }
	}
	acc, err := mk(metric.Name, value("train_"+metric.Name), value("test_"+metric.Name))
	if err != nil {
		return errors.Wrap(err, "drawing the accuracy curve")
	}
	img := vgimg.New(12*vg.Inch, 4.5*vg.Inch)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 1, Cols: 2, PadX: vg.Millimeter * 4, PadY: vg.Millimeter * 2, PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	canvases := plot.Align([][]*plot.Plot{{loss, acc}}, tiles, dc)
	loss.Draw(canvases[0][0])
	acc.Draw(canvases[0][1])
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&buf); err != nil {
		return errors.Wrap(err, "encoding curves.png")
	}
	return atomicfile.WriteFile(path, buf.Bytes(), 0o644)
}

// writeReturnCurve draws an agent's mean episode return against the
// environment steps of training, a point per chunk, to path.
func writeReturnCurve(path, title string, rows []rl.Chunk) error {
	p := plot.New()
	p.Title.Text = title + ": mean episode return"
	p.X.Label.Text = "environment steps"
	p.Y.Label.Text = "mean return"
	var pts plotter.XYs
	for _, r := range rows {
		if !math.IsNaN(r.MeanReturn) {
			pts = append(pts, plotter.XY{X: float64(r.Steps), Y: r.MeanReturn})
		}
	}
	if len(pts) > 0 {
		if err := plotutil.AddLinePoints(p, "training episodes", pts); err != nil {
			return errors.Wrap(err, "drawing the return curve")
		}
	}
	img := vgimg.New(8*vg.Inch, 4.5*vg.Inch)
	p.Draw(draw.New(img))
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&buf); err != nil {
		return errors.Wrap(err, "encoding curves.png")
	}
	return atomicfile.WriteFile(path, buf.Bytes(), 0o644)
}
