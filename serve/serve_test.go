package serve_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dlrun/dlrun/datasets"
	"github.com/dlrun/dlrun/run"
	"github.com/dlrun/dlrun/runner"
	"github.com/dlrun/dlrun/serve"
	"github.com/dlrun/dlrun/train"
)

// runs are the run folders the tests serve, trained once by TestMain: an
// mlp and a cnn (1 epoch on a few Fashion-MNIST images; batch 16 and 8),
// an mf recommender (1 epoch on a tiny MovieLens-style folder) and a tiny
// next-token model (1 epoch on a short text).
var runs struct {
	mlp, cnn, mf, lm string
	fashion          *datasets.Dataset
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "dlrun-serve-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	err = trainRuns(dir)
	code := 1
	if err == nil {
		code = m.Run()
	} else {
		fmt.Fprintln(os.Stderr, "training the test runs:", err)
	}
	os.RemoveAll(dir)
	os.Exit(code)
}

func trainRuns(dir string) error {
	d, err := datasets.FashionMNIST()
	if err != nil {
		return err
	}
	small := *d
	small.Train, small.Test = d.Train.Subset(64), d.Test.Subset(16)
	runs.fashion = &small
	for _, c := range []struct {
		model string
		batch int
		out   *string
	}{{"mlp", 16, &runs.mlp}, {"cnn", 8, &runs.cnn}} {
		*c.out = filepath.Join(dir, c.model)
		cfg := run.Config{Model: c.model, Dataset: small.Name, Config: train.Config{Epochs: 1, BatchSize: c.batch}}
		if _, err := runner.Train(cfg, runner.Options{Data: run.FromDataset(&small), Out: *c.out}); err != nil {
			return err
		}
	}

	ratings, err := writeRatings(filepath.Join(dir, "ratings"))
	if err != nil {
		return err
	}
	runs.mf = filepath.Join(dir, "mf")
	cfg := run.Config{Model: "mf", Dataset: ratings, Dim: 4, Config: train.Config{Epochs: 1, BatchSize: 8, LearningRate: 0.05}}
	if _, err := runner.Train(cfg, runner.Options{Out: runs.mf}); err != nil {
		return err
	}

	txt, err := datasets.NewText("tiny", strings.Repeat("the cat sat on the mat. ", 10), 0.1)
	if err != nil {
		return err
	}
	spec := filepath.Join(dir, "tiny-lm.yaml")
	if err := os.WriteFile(spec, fmt.Appendf(nil, "name: tiny-lm\nlayers:\n  - embedding: {vocab: %d, dim: 8}\n  - lstm: {hidden: 16, return_sequences: true, stateful: true}\n  - dense: {units: %d}\n", len(txt.Vocab), len(txt.Vocab)), 0o644); err != nil {
		return err
	}
	runs.lm = filepath.Join(dir, "lm")
	cfg = run.Config{Model: spec, Task: "next-token", Dataset: txt.Name, SeqLen: 6, Config: train.Config{Epochs: 1, BatchSize: 4}}
	_, err = runner.Train(cfg, runner.Options{Data: run.FromText(txt), Out: runs.lm})
	return err
}

// writeRatings writes a small rating dataset in MovieLens's CSV layout
// into folder dir: 8 users (ids 1 to 8) each rate 9 of 11 movies (ids 10
// to 110), two tastes by parity.
func writeRatings(dir string) (string, error) {
	if err := os.Mkdir(dir, 0o755); err != nil {
		return "", err
	}
	var r, m strings.Builder
	r.WriteString("userId,movieId,rating,timestamp\n")
	m.WriteString("movieId,title,genres\n")
	for k := 0; k < 11; k++ {
		fmt.Fprintf(&m, "%d,\"Movie %d, The (19%02d)\",Comedy|Drama\n", 10*(k+1), k, 80+k)
	}
	for j := 0; j < 8; j++ {
		for k := 0; k < 11; k++ {
			if (k+j)%4 == 0 {
				continue
			}
			v := 1.5
			if k%2 == j%2 {
				v = 4.5
			}
			fmt.Fprintf(&r, "%d,%d,%g,%d\n", j+1, 10*(k+1), v, 1000000+j*1000+k*10)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "ratings.csv"), []byte(r.String()), 0o644); err != nil {
		return "", err
	}
	return dir, os.WriteFile(filepath.Join(dir, "movies.csv"), []byte(m.String()), 0o644)
}

// startServer serves dirs on a free port of 127.0.0.1 until the test ends
// and returns the server and its base URL.
func startServer(t *testing.T, o serve.Options, dirs ...string) (*serve.Server, string) {
	t.Helper()
	s, err := serve.New(dirs, o)
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		s.Close()
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, l) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
		s.Close()
	})
	return s, "http://" + l.Addr().String()
}

// load loads the run of dir beside the server's copy, to compare with.
func load(t *testing.T, dir string) *run.Run {
	t.Helper()
	m, err := run.Open(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// call sends a request and returns the answer's status and body.
func call(t testing.TB, method, url, contentType string, body io.Reader) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

// getJSON GETs url, wants 200 and decodes the answer into v.
func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	code, b := call(t, "GET", url, "", nil)
	if code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, code, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("GET %s: %v\n%s", url, err, b)
	}
}

// inferRequest returns an infer request body with one input.
func inferRequest(datatype string, shape []int, data any, extra string) string {
	b, err := json.Marshal(data)
	if err != nil {
		panic(err)
	}
	s, _ := json.Marshal(shape)
	return fmt.Sprintf(`{"id":"r1","inputs":[{"name":"input","shape":%s,"datatype":%q,"data":%s}]%s}`, s, datatype, b, extra)
}

// infer POSTs body to the model's infer endpoint, wants 200 and returns
// the answer.
func infer(t testing.TB, base, model, body string) serve.InferResponse {
	t.Helper()
	resp, err := tryInfer(base, model, body)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// tryInfer is infer, returning its error, for other goroutines than the
// test's.
func tryInfer(base, model, body string) (serve.InferResponse, error) {
	r, err := http.Post(base+"/v2/models/"+model+"/infer", "application/json", strings.NewReader(body))
	if err != nil {
		return serve.InferResponse{}, err
	}
	defer r.Body.Close()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return serve.InferResponse{}, err
	}
	if r.StatusCode != http.StatusOK {
		return serve.InferResponse{}, fmt.Errorf("infer %s: %d %s", model, r.StatusCode, b)
	}
	var resp struct {
		serve.InferResponse
		Outputs []struct {
			Name     string          `json:"name"`
			Datatype string          `json:"datatype"`
			Shape    []int           `json:"shape"`
			Data     json.RawMessage `json:"data"`
		} `json:"outputs"`
	}
	if err := json.Unmarshal(b, &resp); err != nil {
		return serve.InferResponse{}, fmt.Errorf("infer %s: %v\n%s", model, err, b)
	}
	out := resp.InferResponse
	out.Outputs = nil
	for _, o := range resp.Outputs {
		t := serve.OutputTensor{Name: o.Name, Datatype: o.Datatype, Shape: o.Shape}
		var err error
		if o.Datatype == serve.BYTES {
			var s []string
			err = json.Unmarshal(o.Data, &s)
			t.Data = s
		} else {
			var f []float32
			err = json.Unmarshal(o.Data, &f)
			t.Data = f
		}
		if err != nil {
			return serve.InferResponse{}, fmt.Errorf("infer %s: output %s: %v", model, o.Name, err)
		}
		out.Outputs = append(out.Outputs, t)
	}
	return out, nil
}

// output returns the output called name of resp.
func output(t testing.TB, resp serve.InferResponse, name string) serve.OutputTensor {
	t.Helper()
	for _, o := range resp.Outputs {
		if o.Name == name {
			return o
		}
	}
	t.Fatalf("the answer lacks output %s: %+v", name, resp)
	return serve.OutputTensor{}
}

// wantRows checks that data holds rows, as float32, exactly.
func wantRows(t testing.TB, what string, data any, rows [][]float64) {
	t.Helper()
	got := data.([]float32)
	i := 0
	for r, row := range rows {
		for j, v := range row {
			if i >= len(got) {
				t.Fatalf("%s: %d values, want more", what, len(got))
			}
			if got[i] != float32(v) {
				t.Fatalf("%s: row %d value %d: %v, Predict alone %v", what, r, j, got[i], float32(v))
			}
			i++
		}
	}
	if i != len(got) {
		t.Fatalf("%s: %d values, want %d", what, len(got), i)
	}
}

// examples returns n Fashion-MNIST test images from the ith on.
func examples(i, n int) []float32 {
	x := runs.fashion.Test.X
	i %= runs.fashion.Test.Len() - n
	return x[i*784 : (i+n)*784]
}

// The health, server and model metadata endpoints answer what KServe's v2
// protocol says, with dlrun's fields.
func TestHealthAndMetadata(t *testing.T) {
	_, base := startServer(t, serve.Options{}, runs.mlp, runs.mf, runs.lm)
	var live, ready map[string]bool
	getJSON(t, base+"/v2/health/live", &live)
	getJSON(t, base+"/v2/health/ready", &ready)
	if !live["live"] || !ready["ready"] {
		t.Errorf("live %v, ready %v", live, ready)
	}
	var sm serve.ServerMetadata
	getJSON(t, base+"/v2", &sm)
	if sm.Name != "dlrun" || sm.Version == "" || len(sm.Extensions) == 0 {
		t.Errorf("server metadata %+v", sm)
	}
	var md serve.ModelMetadata
	getJSON(t, base+"/v2/models/mlp", &md)
	want := `{"name":"mlp","versions":["1"],"platform":"dlrun","inputs":[{"name":"input","datatype":"FP32","shape":[-1,1,28,28]}],` +
		`"outputs":[{"name":"probabilities","datatype":"FP32","shape":[-1,10]},{"name":"top_classes","datatype":"BYTES","shape":[-1,-1]}],`
	if b, _ := json.Marshal(md); !strings.HasPrefix(string(b), want) || md.Task != "classify" || len(md.Describes["classes"].([]any)) != 10 || md.Describes["classes"].([]any)[9] != "Ankle boot" || md.Parameters["batch_size"] != 16.0 {
		t.Errorf("mlp's metadata:\n%s\nwant it to begin\n%s\nwith task classify, 10 classes and batch_size 16", b, want)
	}
	getJSON(t, base+"/v2/models/mf/versions/1", &md)
	if b, _ := json.Marshal(md.Inputs); string(b) != `[{"name":"input","datatype":"INT64","shape":[-1,2]}]` || md.Task != "rating" || md.Describes["users"] != 8.0 || md.Describes["movies"] != 11.0 || md.Outputs[0].Name != "rating" {
		t.Errorf("mf's metadata: %+v", md)
	}
	getJSON(t, base+"/v2/models/lm", &md)
	if b, _ := json.Marshal(md.Outputs); md.Task != "next-token" || string(b) != fmt.Sprintf(`[{"name":"logits","datatype":"FP32","shape":[-1,6,%d]}]`, len(md.Describes["vocab"].([]any))) {
		t.Errorf("lm's metadata: %+v", md)
	}
	var mr serve.ModelReady
	getJSON(t, base+"/v2/models/lm/ready", &mr)
	if mr != (serve.ModelReady{Name: "lm", Ready: true}) {
		t.Errorf("lm ready: %+v", mr)
	}
}

// Each kind of model answers infer with exactly what Predict (a
// classifier's probabilities, a rating) or Outputs (a next-token model's
// logits) gives for the request alone, as float32, flat or nested data,
// and top_classes lists the classes best first in Triton's format.
func TestInferEqualsPredict(t *testing.T) {
	_, base := startServer(t, serve.Options{BatchWait: time.Millisecond}, runs.mlp, runs.cnn, runs.mf, runs.lm)
	for _, name := range []string{"mlp", "cnn"} {
		ref := load(t, map[string]string{"mlp": runs.mlp, "cnn": runs.cnn}[name])
		for _, n := range []int{1, 3, 20} { // 20: more than a batch
			x := examples(5, n)
			want, err := ref.Model.Predict(x)
			if err != nil {
				t.Fatal(err)
			}
			resp := infer(t, base, name, inferRequest("FP32", []int{n, 1, 28, 28}, x, ""))
			if resp.ModelName != name || resp.ModelVersion != "1" || resp.ID != "r1" || len(resp.Outputs) != 2 {
				t.Fatalf("%s: answer %+v", name, resp)
			}
			p := output(t, resp, "probabilities")
			if p.Datatype != "FP32" || fmt.Sprint(p.Shape) != fmt.Sprint([]int{n, 10}) {
				t.Errorf("%s: probabilities %s %v", name, p.Datatype, p.Shape)
			}
			wantRows(t, fmt.Sprintf("%s, %d rows", name, n), p.Data, want)
			top := output(t, resp, "top_classes")
			if top.Datatype != "BYTES" || fmt.Sprint(top.Shape) != fmt.Sprint([]int{n, 3}) {
				t.Errorf("%s: top_classes %s %v", name, top.Datatype, top.Shape)
			}
			for r := range n {
				best := (run.ImagePrediction{Probabilities: want[r]}).Top(3, ref.Classes())
				for k, c := range best {
					s := fmt.Sprintf("%s:%d:%s", strconv.FormatFloat(float64(float32(c.Probability)), 'g', -1, 32), c.Index, c.Class)
					if got := top.Data.([]string)[r*3+k]; got != s {
						t.Errorf("%s row %d: top class %d %q, want %q", name, r, k, got, s)
					}
				}
			}
		}
	}

	// Nested data, one output asked for with its classification parameter.
	ref := load(t, runs.mlp)
	x := examples(7, 2)
	nested := make([][][][]float32, 2)
	for i := range nested {
		nested[i] = [][][]float32{make([][]float32, 28)}
		for y := range 28 {
			nested[i][0][y] = x[i*784+y*28 : i*784+(y+1)*28]
		}
	}
	want, _ := ref.Model.Predict(x)
	resp := infer(t, base, "mlp", inferRequest("FP64", []int{2, 1, 28, 28}, nested, `,"outputs":[{"name":"top_classes","parameters":{"classification":12}}]`))
	if top := output(t, resp, "top_classes"); len(resp.Outputs) != 1 || fmt.Sprint(top.Shape) != "[2 10]" {
		t.Errorf("top_classes with classification 12 (clamped to 10 classes): %+v", resp)
	}
	resp = infer(t, base, "mlp", inferRequest("FP32", []int{2, 1, 28, 28}, nested, `,"parameters":{"top":1},"outputs":[{"name":"probabilities"},{"name":"top_classes"}]`))
	wantRows(t, "nested", output(t, resp, "probabilities").Data, want)
	if top := output(t, resp, "top_classes"); fmt.Sprint(top.Shape) != "[2 1]" {
		t.Errorf("top 1: %+v", top)
	}

	// A rating model: (user, movie) pairs of the dataset's ids, INT64 or
	// FP32; the model reads their indices.
	mf := load(t, runs.mf)
	pairs := []float32{0, 0, 3, 10, 7, 5}
	wantR, err := mf.Model.Predict(pairs)
	if err != nil {
		t.Fatal(err)
	}
	for _, dt := range []string{"INT64", "INT32", "FP32"} {
		resp = infer(t, base, "mf", inferRequest(dt, []int{3, 2}, [][]int{{1, 10}, {4, 110}, {8, 60}}, ""))
		r := output(t, resp, "rating")
		if fmt.Sprint(r.Shape) != "[3 1]" {
			t.Errorf("rating shape %v", r.Shape)
		}
		wantRows(t, "mf "+dt, r.Data, wantR)
	}

	// A next-token model: logits [N, T, V], each sequence from the zero
	// state.
	lm := load(t, runs.lm)
	V := lm.Model.Info.Outputs
	ids := make([]float32, 3*6)
	for i := range ids {
		ids[i] = float32((i*5 + 1) % V)
	}
	wantL, err := lm.Model.Outputs(ids)
	if err != nil {
		t.Fatal(err)
	}
	resp = infer(t, base, "lm", inferRequest("INT64", []int{3, 6}, ids, ""))
	l := output(t, resp, "logits")
	if fmt.Sprint(l.Shape) != fmt.Sprint([]int{3, 6, V}) {
		t.Errorf("logits shape %v", l.Shape)
	}
	wantRows(t, "lm", l.Data, wantL)
}

// Concurrent requests to one model are gathered into batches (the
// batch-size metric counts fewer forward calls than requests), and each
// answer is still exactly what Predict gives for the request alone.
func TestConcurrentRequestsAreBatched(t *testing.T) {
	srv, base := startServer(t, serve.Options{BatchWait: 50 * time.Millisecond}, runs.cnn, runs.mf)
	ref := load(t, runs.cnn)
	const requests = 24
	type answer struct {
		i    int
		resp serve.InferResponse
		err  error
	}
	answers := make(chan answer, requests)
	before := metric(t, base, `dlrun_serve_batch_rows_count{model="cnn"}`)
	// The model is held busy until every request has queued for it, so
	// that they batch whatever the machine's timing.
	release := serve.HoldModel(t, srv, "cnn", requests, func() {
		for i := range requests {
			go func() {
				n := 1 + i%3
				resp, err := tryInfer(base, "cnn", inferRequest("FP32", []int{n, 1, 28, 28}, examples(i, n), ""))
				answers <- answer{i, resp, err}
			}()
		}
	})
	release()
	for range requests {
		a := <-answers
		if a.err != nil {
			t.Fatal(a.err)
		}
		n := 1 + a.i%3
		want, err := ref.Model.Predict(examples(a.i, n))
		if err != nil {
			t.Fatal(err)
		}
		wantRows(t, fmt.Sprintf("request %d", a.i), output(t, a.resp, "probabilities").Data, want)
	}
	calls := metric(t, base, `dlrun_serve_batch_rows_count{model="cnn"}`) - before
	rows := metric(t, base, `dlrun_serve_batch_rows_sum{model="cnn"}`)
	t.Logf("cnn: %d requests of %v rows in all ran as %v forward calls", requests, rows, calls)
	if calls >= requests || calls < 1 || rows != 2*requests {
		t.Errorf("%d requests of %d rows in all ran as %v forward calls of %v rows: want fewer calls than requests", requests, 2*requests, calls, rows)
	}

	// Ratings batch too.
	mf := load(t, runs.mf)
	release = serve.HoldModel(t, srv, "mf", requests, func() {
		for i := range requests {
			go func() {
				resp, err := tryInfer(base, "mf", inferRequest("INT64", []int{1, 2}, []int{i%8 + 1, 10 * (i%11 + 1)}, ""))
				answers <- answer{i, resp, err}
			}()
		}
	})
	release()
	for range requests {
		a := <-answers
		if a.err != nil {
			t.Fatal(a.err)
		}
		want, err := mf.Model.Predict([]float32{float32(a.i % 8), float32(a.i % 11)})
		if err != nil {
			t.Fatal(err)
		}
		wantRows(t, fmt.Sprintf("rating %d", a.i), output(t, a.resp, "rating").Data, want)
	}
	if calls := metric(t, base, `dlrun_serve_batch_rows_count{model="mf"}`); calls >= requests {
		t.Errorf("%d rating requests ran as %v forward calls", requests, calls)
	}
}

// metric returns the value of the sample called name (with its labels)
// at /metrics.
func metric(t *testing.T, base, name string) float64 {
	t.Helper()
	code, b := call(t, "GET", base+"/metrics", "", nil)
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d", code)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatal(err)
			}
			return f
		}
	}
	return 0
}

// predict-image classifies a PNG as `dlrun predict` does
// (run.Model.PredictImages), and recommend recommends as `dlrun
// recommend` does (run.Recommender.Recommend).
func TestPredictImageAndRecommend(t *testing.T) {
	_, base := startServer(t, serve.Options{}, runs.cnn, runs.mf)
	file := filepath.Join("..", "testdata", "cli", "gray-28x28.png")
	img, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	ref := load(t, runs.cnn)
	for _, invert := range []bool{false, true} {
		want, err := ref.PredictImages([]string{file}, invert)
		if err != nil || want[0].Err != nil {
			t.Fatal(err, want[0].Err)
		}
		url := base + "/v2/models/cnn/predict-image?top=4"
		if invert {
			url += "&invert=1"
		}
		code, b := call(t, "POST", url, "image/png", bytes.NewReader(img))
		if code != http.StatusOK {
			t.Fatalf("predict-image: %d %s", code, b)
		}
		var got serve.ImageResponse
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		wantTop := want[0].Top(4, ref.Classes())
		if fmt.Sprint(got.Probabilities) != fmt.Sprint(want[0].Probabilities) || fmt.Sprint(got.Top) != fmt.Sprint(wantTop) ||
			got.Class != wantTop[0].Class || got.Probability != wantTop[0].Probability || got.ModelName != "cnn" {
			t.Errorf("invert %v: predict-image %+v\nwant probabilities %v, top %v", invert, got, want[0].Probabilities, wantTop)
		}
	}

	mfRun, err := run.Open(runs.mf, false)
	if err != nil {
		t.Fatal(err)
	}
	defer mfRun.Close()
	rec, err := mfRun.Recommender("")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ user, top int }{{1, 2}, {6, 10}} {
		want, err := rec.Recommend(c.user, c.top)
		if err != nil {
			t.Fatal(err)
		}
		var got serve.RecommendResponse
		getJSON(t, fmt.Sprintf("%s/v2/models/mf/recommend?user=%d&top=%d", base, c.user, c.top), &got)
		a, _ := json.Marshal(got.Recommendations)
		b, _ := json.Marshal(want)
		if string(a) != string(b) || got.User != c.user {
			t.Errorf("user %d top %d: %s\nwant %s", c.user, c.top, a, b)
		}
	}
}

// /metrics answers in Prometheus's format with the server's metrics and
// the Go and process collectors'.
func TestMetrics(t *testing.T) {
	_, base := startServer(t, serve.Options{}, runs.mlp)
	infer(t, base, "mlp", inferRequest("FP32", []int{1, 1, 28, 28}, examples(0, 1), ""))
	call(t, "GET", base+"/v2/models/nope", "", nil)
	code, b := call(t, "GET", base+"/metrics", "", nil)
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d", code)
	}
	for _, want := range []string{
		`dlrun_serve_requests_total{code="200",endpoint="infer",model="mlp"} 1`,
		`dlrun_serve_requests_total{code="404",endpoint="model_metadata",model=""} 1`,
		`dlrun_serve_request_duration_seconds_bucket{endpoint="infer",model="mlp",le="+Inf"} 1`,
		`dlrun_serve_batch_rows_sum{model="mlp"} 1`,
		`dlrun_serve_batch_requests_count{model="mlp"} 1`,
		`dlrun_serve_requests_in_flight{endpoint="metrics"} 1`,
		"go_goroutines ",
		"process_cpu_seconds_total ",
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
