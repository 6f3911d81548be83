package runner

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Not on a terminal, 300 epochs print 20 evenly spaced lines, the last
// among them; a run that ends early prints its last epoch's line too.
func TestEpochLogPrintsAbout20EvenlySpacedLinesAndTheLast(t *testing.T) {
	for _, c := range []struct {
		epochs, trained int
		terminal        bool
		want            []int
	}{
		{300, 300, false, seq(15, 300, 15)},
		{10, 10, false, seq(1, 10, 1)},
		{30, 30, false, seq(2, 30, 2)},
		{31, 31, false, append(seq(2, 30, 2), 31)},
		{300, 300, true, seq(1, 300, 1)},
		{300, 37, false, []int{15, 30, 37}}, // stopped early after epoch 37
	} {
		var b bytes.Buffer
		l := newEpochLog(&b, c.epochs, c.terminal)
		for e := 1; e <= c.trained; e++ {
			l.line(e, "epoch "+strconv.Itoa(e))
		}
		l.flush()
		var got []int
		for _, s := range strings.Fields(strings.ReplaceAll(b.String(), "epoch ", "")) {
			n, _ := strconv.Atoi(s)
			got = append(got, n)
		}
		if !equalInts(got, c.want) {
			t.Errorf("%d of %d epochs, terminal %v: lines for %v, want %v", c.trained, c.epochs, c.terminal, got, c.want)
		}
	}
}

func seq(from, to, step int) []int {
	var s []int
	for i := from; i <= to; i += step {
		s = append(s, i)
	}
	return s
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// The first update of the progress bar shows no rate (one batch in no
// time made it read 116152450 samples/s); later ones show the rate of the
// batches since the first.
func TestProgressRateIsMeasuredFromTheFirstBatch(t *testing.T) {
	var b bytes.Buffer
	p := progressBar(&b, 64, "samples")
	p(1, 100, 0.5)
	time.Sleep(150 * time.Millisecond)
	p(2, 100, 0.4)
	time.Sleep(150 * time.Millisecond) // past the bar's 100 ms throttle
	p(3, 100, 0.3)
	out := b.String()
	rates := regexp.MustCompile(`(\d+) samples/s`).FindAllStringSubmatch(out, -1)
	if len(rates) == 0 {
		t.Fatalf("no rate drawn: %q", out)
	}
	for _, r := range rates {
		// two batches of 64 in at least 0.3 s: at most about 430/s
		if v, _ := strconv.Atoi(r[1]); v > 500 {
			t.Errorf("rate %d samples/s for batches of 64 every 150 ms: %q", v, out)
		}
	}
	if strings.Contains(strings.SplitN(out, "loss 0.4000", 2)[0], "samples/s") {
		t.Errorf("the first update shows a rate: %q", out)
	}
}

func TestPlural(t *testing.T) {
	for n, want := range map[int]string{0: "0 epochs", 1: "1 epoch", 2: "2 epochs"} {
		if got := plural(n, "epoch"); got != want {
			t.Errorf("plural(%d) = %q, want %q", n, got, want)
		}
	}
}
