// Command board measures `dlrun board` in headless Chromium, and takes
// the screenshot of docs/board.md.
//
// Without -screenshot it writes -n synthetic finished runs of -epochs
// epochs each into a temporary folder (or takes -runs), serves a board
// over them in this process, and loads the page -loads times in a fresh
// tab, printing for each load the time from navigation to the table
// drawn (performance.now when the page first renders the table), then
// the time to draw every run's curves after ticking them all (one
// request for the curves, uPlot charts of -n series each).
//
//	go run ./bench/board                     # 200 runs of 100 epochs
//	go run ./bench/board -n 50 -epochs 300
//
// With -screenshot FILE it serves -runs, ticks the runs named by -select
// (their IDs, comma-separated), waits for their curves and writes a
// full-page PNG screenshot of -width pixels:
//
//	go run ./bench/board -runs runs/reproduce -screenshot docs/board.png -height 1300 \
//	    -select cnn/seed-1,cnn-bn/seed-1,mlp/seed-1,rnn-gru/seed-1,rnn-lstm/seed-1
//
// It needs Chromium (apt-get install chromium).
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/dlrun/dlrun/board"
	"github.com/dlrun/dlrun/board/boardtest"
)

func main() {
	runs := flag.String("runs", "", "folder of run folders (default: -n synthetic runs in a temporary folder)")
	n := flag.Int("n", 200, "synthetic runs")
	epochs := flag.Int("epochs", 100, "epochs of each synthetic run")
	loads := flag.Int("loads", 3, "page loads to time")
	shot := flag.String("screenshot", "", "write a full-page screenshot of the board to this PNG file instead of timing")
	sel := flag.String("select", "", "with -screenshot: IDs of the runs to tick, comma-separated")
	width := flag.Int("width", 1400, "window width in pixels")
	height := flag.Int("height", 900, "window height in pixels")
	flag.Parse()
	if err := run(*runs, *n, *epochs, *loads, *shot, *sel, *width, *height); err != nil {
		fmt.Fprintln(os.Stderr, "board:", err)
		os.Exit(1)
	}
}

func run(dir string, n, epochs, loads int, shot, sel string, width, height int) error {
	if dir == "" {
		tmp, err := os.MkdirTemp("", "board-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		if _, err := boardtest.WriteRuns(tmp, n, epochs); err != nil {
			return err
		}
		dir = tmp
	}
	s, err := board.New(dir, board.Options{})
	if err != nil {
		return err
	}
	defer s.Close()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	go s.Serve(ctx, l)
	url := "http://" + l.Addr().String() + "/"
	fmt.Printf("board over %s: %d runs\n", dir, len(s.Runs()))

	bctx, cancel, err := boardtest.Browser(ctx, width, height)
	if err != nil {
		return err
	}
	defer cancel()
	if shot != "" {
		return screenshot(bctx, url, shot, strings.Split(sel, ","))
	}
	for i := range loads {
		tab, closeTab := chromedp.NewContext(bctx) // a fresh tab each time
		err := timeLoad(tab, url, i+1, len(s.Runs()))
		closeTab()
		if err != nil {
			return err
		}
	}
	return nil
}

// timeLoad loads the page at url and prints the time to the table drawn,
// then the time to draw the curves of every run after ticking them all.
func timeLoad(ctx context.Context, url string, i, runs int) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		return err
	}
	table, err := chromedp.Run(ctx, chromedp.Poll[float64](`window.boardTimes.tableRendered`, chromedp.WithPollingInterval(5*time.Millisecond)))
	if err != nil {
		return fmt.Errorf("waiting for the table: %w", err)
	}
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#runs tbody tr').length`))
	if err != nil {
		return err
	}
	curves, err := chromedp.Run(ctx, chromedp.Evaluate[float64](fmt.Sprintf(`(async () => {
		const t0 = performance.now();
		document.querySelector('#select-all').click();
		for (;;) {
			const c = boardState().charts;
			if (c.length && c.every((ch) => ch.series.length === %d && ch.series.every((s) => s.points > 0))) break;
			await new Promise((r) => setTimeout(r, 5));
		}
		return performance.now() - t0;
	})()`, runs), chromedp.EvalAwaitPromise))
	if err != nil {
		return fmt.Errorf("drawing every run's curves: %w", err)
	}
	fmt.Printf("load %d: table of %d rows drawn %.0f ms after navigation; every run's curves drawn %.0f ms after ticking them all\n", i, rows, table, curves)
	return nil
}

// screenshot ticks the runs ids on the page at url, waits for their
// curves and writes a full-page screenshot to file.
func screenshot(ctx context.Context, url, file string, ids []string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		return err
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[float64](`window.boardTimes.tableRendered`)); err != nil {
		return fmt.Errorf("waiting for the table: %w", err)
	}
	var want []string
	for _, id := range ids {
		if id = strings.TrimSpace(id); id == "" {
			continue
		}
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(fmt.Sprintf(`input[data-id=%q]`, id)))); err != nil {
			return fmt.Errorf("ticking %s: %w", id, err)
		}
		want = append(want, id)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](fmt.Sprintf(`(() => {
		const c = boardState().charts;
		return c.length > 0 && c.reduce((n, ch) => n + ch.series.length, 0) >= %d;
	})()`, len(want)))); err != nil {
		return fmt.Errorf("waiting for the curves: %w", err)
	}
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`document.querySelector('.table-wrap').scrollTop = 0`)); err != nil {
		return err
	}
	time.Sleep(300 * time.Millisecond) // the last frame
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		return err
	}
	if err := os.WriteFile(file, png, 0o644); err != nil {
		return err
	}
	fmt.Printf("wrote %s (%d bytes)\n", file, len(png))
	return nil
}
