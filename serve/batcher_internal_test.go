package serve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dlrun/dlrun/run"
)

func TestPadSizes(t *testing.T) {
	for _, c := range []struct {
		max  int
		want []int
	}{
		{1, nil},
		{2, []int{1}},
		{8, []int{1, 2, 4}},
		{64, []int{1, 2, 4, 8, 16, 32}},
		{100, []int{1, 2, 4, 7, 13, 25, 50}},
		{1000, []int{8, 16, 32, 63, 125, 250, 500}},
	} {
		if got := padSizes(c.max); !slices.Equal(got, c.want) {
			t.Errorf("padSizes(%d) = %v, want %v", c.max, got, c.want)
		}
	}
}

// fakeBatcher returns a started batcher of rows of two values, whose
// forward call records the rows it is given and answers each row [a, b]
// with [a+b]; block, if not nil, holds each call until it is closed.
func fakeBatcher(t *testing.T, max int, wait time.Duration, block chan struct{}) (*batcher, func() []int) {
	var mu sync.Mutex
	var calls []int
	b := &batcher{rowLen: 2, outPer: 1, max: max, wait: wait, sizes: padSizes(max),
		forward: func(x []float32) ([][]float64, error) {
			mu.Lock()
			calls = append(calls, len(x)/2)
			mu.Unlock()
			if block != nil {
				<-block
			}
			out := make([][]float64, len(x)/2)
			for i := range out {
				if x[2*i] < 0 {
					panic("negative")
				}
				out[i] = []float64{float64(x[2*i] + x[2*i+1])}
			}
			return out, nil
		}}
	b.start()
	t.Cleanup(b.stop)
	return b, func() []int {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(calls)
	}
}

// rows returns n rows whose sums are from, from+1, ...
func rows(from, n int) []float32 {
	x := make([]float32, 2*n)
	for i := range n {
		x[2*i], x[2*i+1] = float32(from+i), 0
	}
	return x
}

func checkRows(t *testing.T, what string, out [][]float64, err error, from, n int) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if len(out) != n {
		t.Fatalf("%s: %d rows, want %d", what, len(out), n)
	}
	for i, r := range out {
		if len(r) != 1 || r[0] != float64(from+i) {
			t.Fatalf("%s: row %d is %v, want [%d]", what, i, r, from+i)
		}
	}
}

// Requests that fill a batch run as one forward call at once, however
// long the wait, each answered with its own rows; a request of more rows
// than a batch runs alone, and a short batch is padded to the next size.
func TestBatcherGathersAndSplits(t *testing.T) {
	b, calls := fakeBatcher(t, 4, time.Hour, nil)
	ctx := context.Background()
	var wg sync.WaitGroup
	sizes := []int{1, 2, 1}
	arrived := make([]func(), len(sizes))
	for i := range sizes {
		arrived[i] = b.expect() // all three announced before the first arrives
	}
	for i, n := range sizes {
		wg.Go(func() {
			out, err := b.predict(ctx, rows(10*i, n), n, arrived[i])
			checkRows(t, fmt.Sprintf("request %d", i), out, err, 10*i, n)
		})
	}
	wg.Wait()
	out, err := b.predict(ctx, rows(100, 9), 9, nil)
	checkRows(t, "9 rows", out, err, 100, 9)
	if got := calls(); !slices.Equal(got, []int{4, 9}) {
		t.Errorf("forward calls of %v rows, want [4 9]", got)
	}

	b, calls = fakeBatcher(t, 8, 0, nil)
	out, err = b.predict(ctx, rows(5, 3), 3, nil)
	checkRows(t, "3 rows of 8", out, err, 5, 3)
	if got := calls(); !slices.Equal(got, []int{4}) {
		t.Errorf("3 rows ran as %v, want [4] (padded)", got)
	}
}

// With a wait, a request waits that long for the others on their way and
// no longer; with none on the way, it does not wait.
func TestBatcherWaits(t *testing.T) {
	b, calls := fakeBatcher(t, 4, time.Second, nil)
	start := time.Now()
	out, err := b.predict(context.Background(), rows(1, 1), 1, b.expect())
	checkRows(t, "a lone request", out, err, 1, 1)
	if d := time.Since(start); d > time.Second/2 { // half the wait: room for a loaded machine
		t.Errorf("a lone request took %v, want no wait", d)
	}
	other := b.expect() // announced, but it never comes
	defer other()
	start = time.Now()
	out, err = b.predict(context.Background(), rows(1, 1), 1, b.expect())
	checkRows(t, "one row with another on its way", out, err, 1, 1)
	if d := time.Since(start); d < time.Second || d > 10*time.Second {
		t.Errorf("a request with another on its way took %v, want the wait of 1s", d)
	}
	if got := calls(); !slices.Equal(got, []int{1, 1}) {
		t.Errorf("forward calls %v", got)
	}
}

// A request past its deadline returns its context's error while the
// model is busy; a panic in the model is an error, after which the model
// still serves; a stopped batcher refuses requests.
func TestBatcherTimeoutPanicAndStop(t *testing.T) {
	block := make(chan struct{})
	b, _ := fakeBatcher(t, 4, 0, block)
	done := make(chan error, 1)
	go func() {
		_, err := b.predict(context.Background(), rows(1, 4), 4, nil)
		done <- err
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := b.predict(ctx, rows(1, 1), 1, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a request past its deadline: %v", err)
	}
	err := b.do(ctx, func() error { return nil })
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a task past its deadline: %v", err)
	}
	close(block)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := b.predict(context.Background(), []float32{-1, 0}, 1, nil); err == nil || !strings.Contains(err.Error(), "panic: negative") {
		t.Errorf("a panic in the model: %v", err)
	}
	if err := b.do(context.Background(), func() error { panic("oops") }); err == nil || !strings.Contains(err.Error(), "panic: oops") {
		t.Errorf("a panic in a task: %v", err)
	}
	out, err := b.predict(context.Background(), rows(3, 2), 2, nil)
	checkRows(t, "after the panics", out, err, 3, 2)

	b.stop()
	if _, err := b.predict(context.Background(), rows(1, 1), 1, nil); !errors.Is(err, ErrStopped) {
		t.Errorf("after stop: %v", err)
	}
	if err := b.do(context.Background(), func() error { return nil }); !errors.Is(err, ErrStopped) {
		t.Errorf("a task after stop: %v", err)
	}
	b.quit, b.done = make(chan struct{}), make(chan struct{}) // for the cleanup's stop
	close(b.done)
}

// testServer serves one fake classifier ("fake", rows of two values, two
// classes) whose forward call is forward, with a handler that panics at
// /panic.
func testServer(t *testing.T, o Options, forward func([]float32) ([][]float64, error)) string {
	o, err := o.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{opts: o, models: map[string]*model{}, names: []string{"fake"}, metrics: newMetrics(), mux: http.NewServeMux()}
	m := &model{name: "fake", task: "classify", row: []int{2}, rowLen: 2, classes: []string{"a", "b"},
		t: &run.Tensors{Shape: []int{2}, Classes: []string{"a", "b"}, Outputs: []run.Output{
			{Name: run.ProbabilitiesName, Head: run.Probabilities, Shape: []int{2}, Serve: true},
			{Name: run.TopClassesName, Head: run.TopClasses, Shape: []int{-1}, Serve: true}}},
		b: &batcher{forward: forward, rowLen: 2, outPer: 1, max: 4}}
	m.b.start()
	t.Cleanup(m.b.stop)
	s.models["fake"] = m
	s.routes()
	s.handle("/panic", endpoint{"panic", http.MethodGet, false, func(http.ResponseWriter, *http.Request, *model) error { panic("boom") }})
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(hs.Close)
	return hs.URL
}

func post(t *testing.T, url, body string) (int, string) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

const fakeRequest = `{"inputs":[{"name":"input","datatype":"FP32","shape":[1,2],"data":[0.25,0.75]}]}`

// A panic in a handler or in the model is a 500 with a JSON error, and
// the server goes on; a request that waits for its model past the
// timeout is a 503 with a JSON error.
func TestPanicsAndTimeoutsAreJSONErrors(t *testing.T) {
	var mu sync.Mutex
	mode := "ok"
	release := make(chan struct{})
	url := testServer(t, Options{Timeout: 300 * time.Millisecond}, func(x []float32) ([][]float64, error) {
		mu.Lock()
		m := mode
		mu.Unlock()
		switch m {
		case "panic":
			panic("the model broke")
		case "slow":
			<-release
		}
		return [][]float64{{float64(x[0]), float64(x[1])}}, nil
	})
	resp, err := http.Get(url + "/panic")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 500 || string(b) != `{"error":"internal error: boom"}`+"\n" {
		t.Errorf("a panicking handler: %d %s", resp.StatusCode, b)
	}
	for _, c := range []struct {
		mode string
		code int
		want string
	}{
		{"ok", 200, `"data":[0.25,0.75]`},
		{"panic", 500, `{"error":"model fake: panic: the model broke"}`},
		{"slow", 503, `{"error":"model fake: no answer within 300ms, the server's request timeout"}`},
		{"ok", 200, `"data":["0.75:1:b","0.25:0:a"]`},
	} {
		mu.Lock()
		mode = c.mode
		mu.Unlock()
		code, body := post(t, url+"/v2/models/fake/infer", fakeRequest)
		if code != c.code || !strings.Contains(body, c.want) {
			t.Errorf("model %s: %d %s, want %d and %s", c.mode, code, body, c.code, c.want)
		}
		if c.mode == "slow" {
			close(release) // the model finishes the request that timed out
		}
	}
}
