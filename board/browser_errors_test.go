package board_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/dlrun/dlrun/board"
	"github.com/dlrun/dlrun/board/boardtest"
)

// The page over an empty folder, a hash that is not valid
// percent-encoding, and answers that are not JSON (a proxy's error page):
// none breaks it. The page says what failed, asks again at each poll
// although the table did not change, and draws the curves once the
// answers are good again.
func TestBoardInBrowserErrors(t *testing.T) {
	if _, err := boardtest.Chromium(); err != nil {
		if os.Getenv("DLRUN_REQUIRE_CHROMIUM") == "1" {
			t.Fatalf("%v (DLRUN_REQUIRE_CHROMIUM=1)", err)
		}
		t.Skip(err)
	}
	dir := t.TempDir()
	s, err := board.New(dir, board.Options{ScanEvery: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var broken atomic.Bool // /api/curves answers an HTML error page
	hs := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if broken.Load() && r.URL.Path == "/api/curves" {
			w.WriteHeader(http.StatusBadGateway)
			w.Write([]byte("<html>bad gateway</html>"))
			return
		}
		s.ServeHTTP(w, r)
	})}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go hs.Serve(l)
	defer hs.Close()
	base := "http://" + l.Addr().String() + "/"

	bctx, cancel, err := boardtest.Browser(context.Background(), 1280, 900)
	if err != nil {
		t.Fatal(err)
	}
	defer cancel()
	bctx, cancelT := context.WithTimeout(bctx, 40*time.Second)
	defer cancelT()
	// waitFor polls the page until the JavaScript expression js is true.
	waitFor := func(what, js string) {
		t.Helper()
		if _, err := chromedp.Run(bctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
			state, _ := chromedp.Run(bctx, chromedp.Evaluate[string](`document.querySelector('#live').textContent + ' | ' + JSON.stringify(boardState())`))
			t.Fatalf("%s: %v; the page shows %s", what, err, state)
		}
	}
	const live = `document.querySelector('#live').classList.contains('on')`

	if err := chromedp.Do(bctx, chromedp.Navigate(base+"#/run/%E0%A4%A")); err != nil {
		t.Fatal(err)
	}
	waitFor("a bad hash", `document.querySelector('#run-title').textContent === '%E0%A4%A' && `+live)
	if err := chromedp.Do(bctx, chromedp.Navigate(base+"#/")); err != nil {
		t.Fatal(err)
	}
	waitFor("the empty folder", `!document.querySelector('#empty').hidden && document.querySelector('#empty').textContent.startsWith('No run folders here yet') && `+live)

	for _, id := range []string{"a", "b"} {
		if err := boardtest.WriteRun(filepath.Join(dir, id), "mlp", 1, 5, true); err != nil {
			t.Fatal(err)
		}
	}
	waitFor("two runs", `boardState().rows.length === 2`)
	click := func(id string) {
		t.Helper()
		if err := chromedp.Do(bctx, chromedp.Click(chromedp.CSS(fmt.Sprintf(`input[data-id=%q]`, id)))); err != nil {
			t.Fatalf("ticking %s: %v", id, err)
		}
	}
	series := func(n int) string {
		return fmt.Sprintf(`(boardState().charts.find((c) => c.key === 'test_loss') || {series: []}).series.filter((s) => s.points === 5).length === %d`, n)
	}
	click("a")
	waitFor("a's curves", series(1))

	broken.Store(true)
	click("b")
	waitFor("a failed answer is shown", `document.querySelector('#live').textContent.includes('api/curves: 502: the answer is not JSON')`)
	time.Sleep(2500 * time.Millisecond) // a poll (a 304) comes and goes
	text, err := chromedp.Run(bctx, chromedp.Evaluate[string](`document.querySelector('#live').textContent`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, "not JSON") {
		t.Errorf("after a poll while /api/curves fails, the page shows %q", text)
	}
	broken.Store(false)
	waitFor("b's curves once the answers are good", series(2)+` && `+live)
}
