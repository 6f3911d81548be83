package run

import (
	"encoding/csv"
	"io"
	"slices"
	"strconv"

	"github.com/dlrun/dlrun/datasets"
	"github.com/pkg/errors"
)

// PredictTable predicts every row of the CSV table at path with run r,
// which trained on a table, and writes the rows to w as CSV (RFC 4180):
// the header and each row's fields as read, then the prediction columns.
// A classifier adds "<target>_predicted" (the most probable class) and
// "<target>_probability" (its probability); a regressor adds
// "<target>_predicted", in the target's units. The rows' columns come in
// any order; the target column and columns the model does not read may be
// there or not. The rows are read and predicted PredictChunk at a time, so
// memory stays that of one chunk. A malformed row is an error naming the
// file, row and column; what was written before it stays written, so
// write to a file that is discarded on error.
func (r *Run) PredictTable(path string, w io.Writer) error {
	tc := r.Config.Table
	if tc == nil || tc.Preprocessing == nil {
		return errors.Errorf("%s: predicting a CSV table's rows %v to run %s, which was not trained on a table", path, ErrDoesNotApply, r.Dir)
	}
	p := tc.Preprocessing
	out := csv.NewWriter(w)
	head := true
	err := p.EachRows(path, PredictChunk, func(header []string, records [][]string, x []float32) error {
		if head {
			cols := []string{p.Target + "_predicted"}
			if p.Task == datasets.TaskClassify {
				cols = append(cols, p.Target+"_probability")
			}
			if err := out.Write(append(slices.Clone(header), cols...)); err != nil {
				return err
			}
			head = false
		}
		preds, err := r.Model.Predict(x)
		if err != nil {
			return errors.Wrap(err, path)
		}
		if len(preds) != len(records) {
			return errors.Errorf("predict: %d predictions for %d rows", len(preds), len(records))
		}
		for i, rec := range records {
			if err := out.Write(append(rec, predictionFields(p, preds[i])...)); err != nil {
				return err
			}
		}
		out.Flush()
		return out.Error()
	})
	if err != nil {
		return err
	}
	out.Flush()
	return out.Error()
}

// predictionFields are the prediction columns of one row whose model
// output (train.Model.Predict's row) is pred.
func predictionFields(p *datasets.Preprocessing, pred []float64) []string {
	if p.Task != datasets.TaskClassify {
		return []string{strconv.FormatFloat(p.Prediction(pred[0]), 'g', 7, 64)}
	}
	best := 0
	for i, v := range pred {
		if v > pred[best] {
			best = i
		}
	}
	class := strconv.Itoa(best)
	if best < len(p.Classes) {
		class = p.Classes[best]
	}
	return []string{class, strconv.FormatFloat(pred[best], 'f', 4, 64)}
}
