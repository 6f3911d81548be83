package run

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/dlrun/dlrun/internal/atomicfile"
	"github.com/dlrun/dlrun/train"
	"github.com/pkg/errors"
	"github.com/schollz/progressbar/v3"
)

// runDir returns the run folder (default runs/<model>-<timestamp>),
// created and checked not to hold a run already, and whether it was
// created here.
func runDir(out, model string, start time.Time) (string, bool, error) {
	dir := out
	if dir == "" {
		name := model
		if IsModelFile(model) {
			name = trimExt(filepath.Base(model))
		}
		dir = filepath.Join("runs", fmt.Sprintf("%s-%s", name, start.Format("20060102-150405")))
	}
	_, statErr := os.Stat(dir)
	created := os.IsNotExist(statErr)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", false, errors.Wrapf(err, "creating run folder %s", dir)
	}
	for _, f := range []string{"config.json", "model.json", "metrics.csv", "summary.json", "model.safetensors", "checkpoint.safetensors"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err == nil {
			return "", false, errors.Errorf("run folder %s already holds a run (%s); choose another --out, or continue it with --resume", dir, f)
		}
	}
	return dir, created, nil
}

func trimExt(name string) string { return name[:len(name)-len(filepath.Ext(name))] }

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return errors.Wrapf(err, "encoding %s", path)
	}
	return atomicfile.WriteFile(path, append(b, '\n'), 0o644)
}

// MetricsHeader is the header row of metrics.csv for a task scored by
// accuracy (classification, next-token prediction).
var MetricsHeader = strings.Join(metricsColumns([]train.Metric{train.Accuracy}), ",")

// metricsColumns returns the columns of metrics.csv for a task scored by
// metrics: epoch, train_loss, train_<metric>..., test_loss,
// test_<metric>..., learning_rate, seconds.
func metricsColumns(metrics []train.Metric) []string {
	cols := []string{"epoch"}
	for _, split := range []string{"train", "test"} {
		cols = append(cols, split+"_loss")
		for _, m := range metrics {
			cols = append(cols, split+"_"+m.Name)
		}
	}
	return append(cols, "learning_rate", "seconds")
}

// WriteMetrics writes rows to path as CSV (the columns of the task's
// metrics, then one row per epoch), atomically. Numbers are written in
// full precision, so two runs with the same seed give byte-identical
// columns (all but seconds).
func WriteMetrics(path string, rows []train.EpochStats, metrics []train.Metric) error {
	cols := metricsColumns(metrics)
	var b bytes.Buffer
	b.WriteString(strings.Join(cols, ",") + "\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "%d", r.Epoch)
		for _, c := range cols[1 : len(cols)-1] {
			v, _ := r.Value(c)
			b.WriteString("," + strconv.FormatFloat(v, 'g', -1, 64))
		}
		b.WriteString("," + strconv.FormatFloat(r.Seconds, 'f', 3, 64) + "\n")
	}
	return atomicfile.WriteFile(path, b.Bytes(), 0o644)
}

// progress returns a per-batch callback drawing a progress bar on w with
// the loss and the rate; perBatch is the number of samples in one batch.
func progress(w io.Writer, perBatch int) func(done, total int, loss float64) {
	var bar *progressbar.ProgressBar
	var epochStart time.Time
	return func(done, total int, loss float64) {
		if done == 1 || bar == nil {
			bar = progressbar.NewOptions(total,
				progressbar.OptionSetWriter(w),
				progressbar.OptionSetWidth(30),
				progressbar.OptionClearOnFinish(),
				progressbar.OptionShowCount(),
				progressbar.OptionThrottle(100*time.Millisecond))
			epochStart = time.Now()
		}
		rate := float64(done*perBatch) / time.Since(epochStart).Seconds()
		bar.Describe(fmt.Sprintf("loss %.4f  %5.0f samples/s", loss, rate))
		bar.Set(done)
	}
}
