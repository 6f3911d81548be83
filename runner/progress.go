package runner

import (
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/schollz/progressbar/v3"
)

// logLines is about the number of epoch lines a run prints where the log
// is not a terminal: evenly spaced epochs, and the last.
const logLines = 20

// epochLog prints the epoch lines of a run: every epoch's on a terminal
// (as Keras's verbose=1 does); elsewhere (a file, a pipe, CI logs) those
// of every ceil(epochs/logLines)-th epoch and of the last, so that xor's
// 300 epochs print 20 lines.
type epochLog struct {
	w       io.Writer
	every   int
	epochs  int
	pending string // the last line not printed
}

func newEpochLog(w io.Writer, epochs int, terminal bool) *epochLog {
	every := 1
	if !terminal && epochs > logLines {
		every = (epochs + logLines - 1) / logLines
	}
	return &epochLog{w: w, every: every, epochs: epochs}
}

// line prints (or keeps back) the line of epoch.
func (l *epochLog) line(epoch int, text string) {
	if epoch%l.every == 0 || epoch == l.epochs {
		fmt.Fprintln(l.w, text)
		l.pending = ""
		return
	}
	l.pending = text
}

// flush prints the last line kept back: that of the last epoch trained
// when training ends early (early stopping, an error).
func (l *epochLog) flush() {
	if l.pending != "" {
		fmt.Fprintln(l.w, l.pending)
		l.pending = ""
	}
}

// progressBar returns a per-batch callback drawing a progress bar on w with
// the loss and the rate; perBatch is the number of samples (unit) in one
// batch. The rate is measured from the end of the epoch's first batch, so
// it is shown from the second batch on.
func progressBar(w io.Writer, perBatch int, unit string) func(done, total int, loss float64) {
	var bar *progressbar.ProgressBar
	var first time.Time
	return func(done, total int, loss float64) {
		if done == 1 || bar == nil {
			bar = progressbar.NewOptions(total,
				progressbar.OptionSetWriter(w),
				progressbar.OptionSetWidth(30),
				progressbar.OptionClearOnFinish(),
				progressbar.OptionShowCount(),
				progressbar.OptionThrottle(100*time.Millisecond))
			first = time.Now()
		}
		desc := fmt.Sprintf("loss %.4f", loss)
		if secs := time.Since(first).Seconds(); done > 1 && secs > 0 {
			desc += fmt.Sprintf("  %5.0f %s/s", float64((done-1)*perBatch)/secs, unit)
		}
		bar.Describe(desc)
		bar.Set(done)
	}
}

// plural returns "1 epoch", "2 epochs".
func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}
