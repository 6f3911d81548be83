package runner

import (
	"bytes"
	"math"

	"github.com/dlrun/dlrun/internal/atomicfile"
	"github.com/dlrun/dlrun/rundir"
	"github.com/pkg/errors"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// panel is a plot of curves.png: a figure's training and test columns of
// metrics.csv (train "" for a figure measured once, an agent's return)
// against its first column (epoch, steps).
type panel struct {
	name, train, test string
	// falls says the figure improves downwards (a loss), which puts the
	// legend at the top, in the corner the curves leave.
	falls bool
}

// writeCurves draws the panels of table t side by side, titled title, and
// writes them to path as a PNG (atomically). A panel whose columns t
// lacks is left out.
func writeCurves(path, title string, t *rundir.Table, panels []panel) error {
	var plots []*plot.Plot
	for _, pn := range panels {
		test := t.Column(pn.test)
		if test == nil {
			continue
		}
		p := plot.New()
		p.Title.Text = title + ": " + pn.name
		p.X.Label.Text = t.Columns[0]
		p.Y.Label.Text = pn.name
		var lines []any
		if train := t.Column(pn.train); train != nil {
			lines = append(lines, "train", points(t.Data[0], train))
		}
		label := "test"
		if len(lines) == 0 {
			label = pn.test
		}
		lines = append(lines, label, points(t.Data[0], test))
		if err := plotutil.AddLinePoints(p, lines...); err != nil {
			return errors.Wrapf(err, "drawing the %s curve", pn.name)
		}
		p.Legend.Top = pn.falls
		plots = append(plots, p)
	}
	if len(plots) == 0 {
		return nil
	}
	img := vgimg.New(vg.Length(6*len(plots))*vg.Inch, 4.5*vg.Inch)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 1, Cols: len(plots), PadX: vg.Millimeter * 4, PadY: vg.Millimeter * 2, PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	canvases := plot.Align([][]*plot.Plot{plots}, tiles, dc)
	for i, p := range plots {
		p.Draw(canvases[0][i])
	}
	var buf bytes.Buffer
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(&buf); err != nil {
		return errors.Wrap(err, "encoding curves.png")
	}
	return atomicfile.WriteFile(path, buf.Bytes(), 0o644)
}

// points pairs xs with ys, leaving out the rows whose y is NaN (a figure
// the row lacks).
func points(xs, ys []float64) plotter.XYs {
	var pts plotter.XYs
	for i, y := range ys {
		if !math.IsNaN(y) {
			pts = append(pts, plotter.XY{X: xs[i], Y: y})
		}
	}
	return pts
}
