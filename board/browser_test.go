package board_test

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/dlrun/dlrun/board"
	"github.com/dlrun/dlrun/board/boardtest"
	"github.com/dlrun/dlrun/run"
	"github.com/dlrun/dlrun/runner"
	"github.com/dlrun/dlrun/train"
)

// pageState is what window.boardState() tells of the page.
type pageState struct {
	View     string   `json:"view"`
	Selected []string `json:"selected"`
	Rows     []struct {
		ID, Status string
	} `json:"rows"`
	Charts []struct {
		Key, Title string
		Series     []struct {
			ID     string
			Points int
		}
		Legend []string
	} `json:"charts"`
}

// chart returns the chart of key, or nil.
func (p *pageState) chart(key string) (series map[string]int, legend []string) {
	for _, c := range p.Charts {
		if c.Key == key {
			series = map[string]int{}
			for _, s := range c.Series {
				series[s.ID] = s.Points
			}
			return series, c.Legend
		}
	}
	return nil, nil
}

// gate is the log of a training run that holds the run after each epoch's
// line until the test lets it go on: the run has written that epoch's
// metrics.csv row by then, and holds its folder's lock.
type gate struct{ next, open chan struct{} }

func (g *gate) Write(p []byte) (int, error) {
	if strings.HasPrefix(string(p), "epoch ") {
		select {
		case <-g.next:
		case <-g.open:
		}
	}
	return len(p), nil
}

// allow lets the run train n more epochs.
func (g *gate) allow(n int) {
	for range n {
		g.next <- struct{}{}
	}
}

// The board in a real browser, over two finished runs and one still
// training: the table lists the three with their status; ticking the two
// finished ones draws both curves; the running run's curve grows as it
// writes rows, without a reload; and when it ends it shows as finished.
func TestBoardInBrowser(t *testing.T) {
	if _, err := boardtest.Chromium(); err != nil {
		if os.Getenv("DLRUN_REQUIRE_CHROMIUM") == "1" {
			t.Fatalf("%v (DLRUN_REQUIRE_CHROMIUM=1)", err)
		}
		t.Skip(err)
	}
	dir := t.TempDir()
	for _, seed := range []uint64{1, 2} {
		cfg := run.Config{Model: "xor", Config: train.Config{Seed: seed, Epochs: 10 * int(seed)}}
		if _, err := runner.Train(cfg, runner.Options{Out: filepath.Join(dir, fmt.Sprintf("xor-%d", seed))}); err != nil {
			t.Fatal(err)
		}
	}
	before := snapshotDir(t, dir)

	g := &gate{next: make(chan struct{}), open: make(chan struct{})}
	trained := make(chan error, 1)
	go func() {
		cfg := run.Config{Model: "xor", Config: train.Config{Seed: 3, Epochs: 12}}
		_, err := runner.Train(cfg, runner.Options{Out: filepath.Join(dir, "live"), Log: g})
		trained <- err
	}()
	opened := false
	finish := func() {
		if !opened {
			close(g.open)
			opened = true
		}
		if err := <-trained; err != nil {
			t.Errorf("the running run: %v", err)
		}
	}
	defer func() {
		if !opened {
			finish() // whatever became of the test
		}
	}()
	g.allow(3) // the run waits after its 4th epoch's row

	s, err := board.New(dir, board.Options{ScanEvery: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, l) }()
	defer func() {
		stop()
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()

	bctx, cancel, err := boardtest.Browser(context.Background(), 1280, 900)
	if err != nil {
		t.Fatal(err)
	}
	defer cancel()
	bctx, cancelT := context.WithTimeout(bctx, 25*time.Second)
	defer cancelT()
	if err := chromedp.Do(bctx, chromedp.Navigate("http://"+l.Addr().String()+"/")); err != nil {
		t.Fatal(err)
	}

	// wait polls the page until ok holds of its state.
	wait := func(what string, ok func(*pageState) bool) *pageState {
		t.Helper()
		var last pageState
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			var err error
			last, err = chromedp.Run(bctx, chromedp.Evaluate[pageState](`boardState()`))
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			if ok(&last) {
				return &last
			}
			time.Sleep(50 * time.Millisecond)
		}
		t.Fatalf("%s: not within 10 s; the page shows %+v", what, last)
		return nil
	}
	status := func(p *pageState) map[string]string {
		m := map[string]string{}
		for _, r := range p.Rows {
			m[r.ID] = r.Status
		}
		return m
	}
	wait("the table lists the three runs", func(p *pageState) bool {
		st := status(p)
		return len(p.Rows) == 3 && st["xor-1"] == "finished" && st["xor-2"] == "finished" && st["live"] == "running"
	})

	click := func(id string) {
		t.Helper()
		if err := chromedp.Do(bctx, chromedp.Click(chromedp.CSS(fmt.Sprintf(`input[data-id=%q]`, id)))); err != nil {
			t.Fatalf("ticking %s: %v", id, err)
		}
		wait("ticking "+id, func(p *pageState) bool { return slices.Contains(p.Selected, id) })
	}
	click("xor-1")
	click("xor-2")
	wait("ticking two runs draws both curves", func(p *pageState) bool {
		for _, key := range []string{"train_loss", "test_loss", "metric:accuracy", "learning_rate"} {
			series, legend := p.chart(key)
			if series["xor-1"] != 10 || series["xor-2"] != 20 || len(legend) != 2 ||
				!strings.Contains(legend[0], "xor-1") || !strings.Contains(legend[1], "xor-2") {
				return false
			}
		}
		return true
	})

	click("live")
	p := wait("the running run's curve", func(p *pageState) bool {
		series, _ := p.chart("test_loss")
		return series["live"] >= 3
	})
	series, _ := p.chart("test_loss")
	had := series["live"]
	g.allow(4)
	wait("the running run's curve grows", func(p *pageState) bool {
		series, legend := p.chart("test_loss")
		return series["live"] >= had+4 && len(legend) == 3
	})
	finish()
	wait("the run shows as finished when it ends", func(p *pageState) bool {
		series, _ := p.chart("test_loss")
		return status(p)["live"] == "finished" && series["live"] == 12
	})

	// By wall time, a point per distinct wall time (xor's epochs take
	// under the millisecond that metrics.csv's seconds tell, so rows can
	// share one); sorting and filtering the table.
	times := map[string]int{}
	for _, id := range []string{"xor-1", "xor-2", "live"} {
		times[id] = distinctTimes(t, "http://"+l.Addr().String(), id)
	}
	if err := chromedp.Do(bctx, chromedp.Click(chromedp.CSS(`input[name=xmode][value=time]`))); err != nil {
		t.Fatal(err)
	}
	wait(fmt.Sprintf("the curves by wall time, %v points", times), func(p *pageState) bool {
		series, _ := p.chart("test_loss")
		return maps.Equal(series, times)
	})
	for range 2 { // by seed, then by seed downwards
		if err := chromedp.Do(bctx, chromedp.Click(chromedp.CSS(`th[data-key=seed]`))); err != nil {
			t.Fatal(err)
		}
	}
	wait("sorted by seed, downwards", func(p *pageState) bool {
		return len(p.Rows) == 3 && p.Rows[0].ID == "live" && p.Rows[1].ID == "xor-2" && p.Rows[2].ID == "xor-1"
	})
	if err := chromedp.Do(bctx, chromedp.SendKeys(chromedp.CSS(`#f-text`), "xor-2")); err != nil {
		t.Fatal(err)
	}
	wait("filtered", func(p *pageState) bool { return len(p.Rows) == 1 && p.Rows[0].ID == "xor-2" })

	// The run's page: its config and summary.
	if err := chromedp.Do(bctx, chromedp.Navigate("http://"+l.Addr().String()+"/#/run/xor-2")); err != nil {
		t.Fatal(err)
	}
	text, err := chromedp.Run(bctx, chromedp.Poll[string](`document.querySelector('#run-summary').textContent.includes('"test_accuracy"') && document.querySelector('#run-config').textContent`,
		chromedp.WithPollingTimeout(10*time.Second)))
	if err != nil {
		t.Fatalf("the run's page: %v", err)
	}
	if !strings.Contains(text, `"model": "xor"`) {
		t.Errorf("the run's page shows config.json as %q", text)
	}
	if after := snapshotDir(t, dir); !sameFiles(before, after, ".", "live") {
		t.Errorf("the finished run folders changed during the session:\nbefore %v\nafter  %v", before, after)
	}
}

// sameFiles reports whether before and after, snapshots of a folder,
// agree on every path but those in skip and those under them.
func sameFiles(before, after map[string]string, skip ...string) bool {
	kept := func(m map[string]string) map[string]string {
		k := maps.Clone(m)
		for p := range k {
			for _, s := range skip {
				if p == s || strings.HasPrefix(p, s+"/") {
					delete(k, p)
				}
			}
		}
		return k
	}
	return maps.Equal(kept(before), kept(after))
}

// distinctTimes returns the number of distinct wall times of run id's
// rows, as the board at base serves them.
func distinctTimes(t *testing.T, base, id string) int {
	t.Helper()
	resp, err := http.Get(base + "/api/curves?id=" + url.QueryEscape(id))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct{ Curves []struct{ Time []float64 } }
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || len(body.Curves) != 1 {
		t.Fatalf("/api/curves?id=%s: %d %v %+v", id, resp.StatusCode, err, body)
	}
	seen := map[float64]bool{}
	for _, x := range body.Curves[0].Time {
		seen[x] = true
	}
	return len(seen)
}
