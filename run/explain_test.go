package run_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/datasets"
	"github.com/dlrun/dlrun/explain"
	"github.com/dlrun/dlrun/run"
	"github.com/dlrun/dlrun/rundir"
	"github.com/dlrun/dlrun/runner"
)

// oneLine fails unless err is one line mentioning want.
func oneLine(t *testing.T, what string, err error, want string) {
	t.Helper()
	if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
		t.Errorf("%s: %v, want one line mentioning %q", what, err, want)
	}
}

// openTrained trains cfg for one epoch (on d if given) and opens the run.
func openTrained(t *testing.T, cfg run.Config, d *run.Data) *run.Run {
	t.Helper()
	dir := filepath.Join(t.TempDir(), cfg.Model)
	if cfg.Epochs == 0 {
		cfg.Epochs = 1
	}
	if _, err := runner.Train(cfg, runner.Options{Data: d, Out: dir}); err != nil {
		t.Fatal(err)
	}
	r, err := run.Open(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// An image classifier explains image files: a heat map each, the class
// predicted or named, the same attributions for the same pixels however
// they come (a file, a served row); Save writes a folder of pictures and
// its index, or one page, and two inputs of one name get two files.
func TestExplainImages(t *testing.T) {
	d := smallFashion(t, 40)
	r := openTrained(t, run.Config{Model: "mlp", Dataset: d.Name}, run.FromDataset(d))
	img := fixture("gray-28x28.png")
	ex, err := r.Explain([]string{img, img}, run.ExplainOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if ex.Model != "mlp" || ex.Kind != "classify" || len(ex.Items) != 2 {
		t.Fatalf("explanations: %+v", ex)
	}
	a, ok := ex.Items[0].(*run.ImageExplanation)
	if !ok {
		t.Fatalf("an image's explanation is a %T", ex.Items[0])
	}
	if a.Type != "image" || a.Input != img || a.Method != explain.IntegratedGradients || a.ClassName != r.Classes()[a.Class] || len(a.Values) != 784 {
		t.Errorf("explanation: type %s, input %s, method %s, class %d %s, %d values", a.Type, a.Input, a.Method, a.Class, a.ClassName, len(a.Values))
	}
	if rel := math.Abs(*a.Delta) / math.Abs(a.Output-*a.BaselineOutput); rel > 0.05 {
		t.Errorf("completeness off by %.1f%%", 100*rel)
	}

	// The class asked for by name; an unknown name is one line.
	named, err := r.Explain([]string{img}, run.ExplainOptions{Class: "Bag", Options: explain.Options{Method: explain.Saliency}})
	if err != nil {
		t.Fatal(err)
	}
	if b := named.Items[0].(*run.ImageExplanation); b.ClassName != "Bag" || b.Class != 8 || b.Method != explain.Saliency {
		t.Errorf("--class Bag: class %d %s by %s", b.Class, b.ClassName, b.Method)
	}
	_, err = r.Explain([]string{img}, run.ExplainOptions{Class: "Boot"})
	oneLine(t, "an unknown class", err, `class "Boot" is not one of the model's 10`)
	_, err = r.Explain([]string{fixture("not-an-image.png")}, run.ExplainOptions{})
	oneLine(t, "a file that is no image", err, "not-an-image.png")
	_, err = r.Explain(nil, run.ExplainOptions{})
	oneLine(t, "no input", err, "nothing to explain")

	// The served row of the same pixels: the same attributions.
	pixels, err := datasets.ReadImage(img, r.InputShape(), false)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := r.ExplainRows(1, pixels, run.ExplainOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := rows.Items[0].(*run.ImageExplanation); !slices.Equal(got.Values, a.Values) || got.Input != "row-1" {
		t.Errorf("the served row %s: its attributions differ from the file's", got.Input)
	}

	// A folder: a heat map per input, two of one name apart, and the index.
	out := filepath.Join(t.TempDir(), "maps")
	paths, err := ex.Save(out)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"gray-28x28-integrated-gradients.png", "gray-28x28-2-integrated-gradients.png", rundir.ExplanationIndex}
	for i, p := range paths {
		if filepath.Base(p) != want[i] {
			t.Errorf("file %d: %s, want %s", i+1, filepath.Base(p), want[i])
		}
		b, err := os.ReadFile(p)
		if err != nil || len(b) == 0 {
			t.Errorf("%s: %v", p, err)
		}
		if strings.HasSuffix(p, ".png") && !strings.HasPrefix(string(b), "\x89PNG") {
			t.Errorf("%s is not a PNG", p)
		}
	}
	var index struct {
		Model        string `json:"model"`
		Explanations []struct {
			Type   string    `json:"type"`
			Files  []string  `json:"files"`
			Class  string    `json:"class_name"`
			Values []float64 `json:"values"`
		} `json:"explanations"`
	}
	b, err := os.ReadFile(filepath.Join(out, rundir.ExplanationIndex))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &index); err != nil {
		t.Fatal(err)
	}
	if index.Model != "mlp" || len(index.Explanations) != 2 || index.Explanations[1].Files[0] != want[1] || index.Explanations[0].Class != a.ClassName || len(index.Explanations[0].Values) != 784 {
		t.Errorf("index: %s", b[:min(len(b), 300)])
	}

	// One page: the pictures inside it.
	page := filepath.Join(t.TempDir(), "explained.html")
	if _, err := ex.Save(page); err != nil {
		t.Fatal(err)
	}
	b, err = os.ReadFile(page)
	if err != nil || !strings.Contains(string(b), "data:image/png;base64,") || strings.Count(string(b), "<section>") != 2 {
		t.Errorf("page: %v\n%.300s", err, b)
	}

	// A folder where a file is: refused, nothing written.
	file := filepath.Join(t.TempDir(), "taken")
	if err := os.WriteFile(file, []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = ex.Save(file)
	oneLine(t, "a folder where a file is", err, "not a folder")
	if b, _ := os.ReadFile(file); string(b) != "mine" {
		t.Errorf("the file in the way now holds %q", b)
	}
}

// The test examples of a classifier are explained with their true class;
// a classifier of points reads rows of numbers.
func TestExplainTestsAndRows(t *testing.T) {
	d := smallFashion(t, 40)
	r := openTrained(t, run.Config{Model: "mlp", Dataset: d.Name}, run.FromDataset(d))
	ex, err := r.ExplainTests(3, run.ExplainOptions{Options: explain.Options{Method: explain.Occlusion}})
	if err != nil {
		t.Fatal(err)
	}
	if len(ex.Items) != 3 {
		t.Fatalf("%d explanations of 3 test examples", len(ex.Items))
	}
	for i, it := range ex.Items {
		a := it.(*run.ImageExplanation)
		if a.Label != d.Classes[d.Test.Labels[i]] || a.Input != "test-"+string(rune('1'+i)) || a.Method != explain.Occlusion {
			t.Errorf("test example %d: %s, label %s (want %s), %s", i+1, a.Input, a.Label, d.Classes[d.Test.Labels[i]], a.Method)
		}
	}
	_, err = r.ExplainTests(run.MaxBoardExamples+1, run.ExplainOptions{})
	oneLine(t, "too many test examples", err, "explain 1 to 64")

	xor := openTrained(t, run.Config{Model: "xor"}, nil)
	ex, err = xor.Explain([]string{"0,1", " 1 , 1"}, run.ExplainOptions{})
	if err != nil {
		t.Fatal(err)
	}
	row := ex.Items[1].(*run.RowExplanation)
	if row.Type != "row" || !slices.Equal(row.Row, []float32{1, 1}) || !slices.Equal(row.Features, []string{"x1", "x2"}) {
		t.Errorf("row 1,1: %+v", row)
	}
	var sb strings.Builder
	if err := ex.Print(&sb, false); err != nil || !strings.Contains(sb.String(), "feature") || !strings.Contains(sb.String(), "x2") {
		t.Errorf("printed: %v\n%s", err, sb.String())
	}
	for _, c := range []struct{ in, want string }{
		{"1,2,3", `input 1 ("1,2,3"): 3 values, want the model's 2`},
		{"a,1", `value 1, "a", is not a finite number`},
		{"NaN,1", `value 1, "NaN", is not a finite number`},
		{"", "1 value, want the model's 2"},
	} {
		_, err := xor.Explain([]string{c.in}, run.ExplainOptions{})
		oneLine(t, c.in, err, c.want)
	}
}

// A language model explains the next character after each text; a
// character outside its vocabulary is one line naming the input.
func TestExplainText(t *testing.T) {
	dir, _, _ := trainTinyLM(t)
	r, err := run.Open(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ex, err := r.Explain([]string{"the cat sat on the m"}, run.ExplainOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a, ok := ex.Items[0].(*run.TextExplanation)
	if !ok || a.Type != "text" || len(a.Values) != 20 || strings.Join(a.Tokens, "") != "the cat sat on the m" {
		t.Fatalf("text explanation: %+v", ex.Items[0])
	}
	if rel := math.Abs(*a.Delta) / math.Abs(a.Output-*a.BaselineOutput); rel > 0.05 {
		t.Errorf("completeness off by %.1f%%", 100*rel)
	}
	few := explain.Options{Steps: 4}
	named, err := r.Explain([]string{"the c"}, run.ExplainOptions{Class: "a", Options: few})
	if err != nil || named.Items[0].(*run.TextExplanation).Next != "a" {
		t.Errorf("--class a: %v", err)
	}
	_, err = r.Explain([]string{"the zebra"}, run.ExplainOptions{})
	oneLine(t, "a character outside", err, `input 1 ("the zebra"): character 'z' is not in the vocabulary`)
	_, err = r.Explain([]string{"the"}, run.ExplainOptions{Options: explain.Options{Method: explain.Occlusion}})
	oneLine(t, "text by occlusion", err, "not occlusion")
	tests, err := r.ExplainTests(2, run.ExplainOptions{Options: few})
	if err != nil || len(tests.Items) != 2 {
		t.Fatalf("test contexts: %v", err)
	}
	var plain, coloured strings.Builder
	if err := ex.Print(&plain, false); err != nil || strings.Contains(plain.String(), "\x1b") || !strings.Contains(plain.String(), "context: the cat sat on the m") {
		t.Errorf("plain: %v\n%s", err, plain.String())
	}
	if err := ex.Print(&coloured, true); err != nil || !strings.Contains(coloured.String(), "\x1b[48;2;") {
		t.Errorf("coloured: %v\n%q", err, coloured.String())
	}
	files, err := ex.Items[0].Files()
	if err != nil || len(files) != 1 || files[0].Suffix != ".html" || !strings.Contains(string(files[0].Data), "<pre>") {
		t.Errorf("files: %v %v", files, err)
	}
}

// A recommender explains a user's predicted rating of a movie, or their
// top recommendation, by the movies they rated, named.
func TestExplainRecommendation(t *testing.T) {
	data := writeTinyRatings(t)
	dir, _ := trainTiny(t, "mf", data)
	r, err := run.Open(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	ex, err := r.Explain([]string{"1:55", "1"}, run.ExplainOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a := ex.Items[0].(*run.RatingExplanation)
	if a.Type != "rating" || a.UserID != 1 || a.Movie.ID != 55 || a.Movie.Title != "Matrix, The (1999)" || len(a.Contributions) == 0 {
		t.Fatalf("user 1, movie 55: %+v", a)
	}
	total := a.Base + a.Rest - a.Delta
	for _, c := range a.Contributions {
		total += c.Value
		if c.Title == "" {
			t.Errorf("a rated movie without its title: %+v", c)
		}
	}
	if math.Abs(total-a.Predicted) > 1e-5 {
		t.Errorf("base, contributions and rest sum to %g, the prediction is %g", total, a.Predicted)
	}
	rec, err := r.Recommender("")
	if err != nil {
		t.Fatal(err)
	}
	top, err := rec.Recommend(1, 1)
	if err != nil {
		t.Fatal(err)
	}
	if b := ex.Items[1].(*run.RatingExplanation); b.Movie.ID != top[0].ID || b.Input != "user 1, movie "+strconv.Itoa(top[0].ID) {
		t.Errorf("user 1 alone: movie %d (%s), the top recommendation is %d", b.Movie.ID, b.Input, top[0].ID)
	}
	for _, c := range []struct{ in, want string }{
		{"3:55", "unknown user id 3"},
		{"1:4", "unknown movie id 4"},
		{"one", "want USER:MOVIE or USER"},
		{"1:x", "want USER:MOVIE or USER"},
	} {
		_, err := r.Explain([]string{c.in}, run.ExplainOptions{})
		oneLine(t, c.in, err, c.want)
	}
	_, err = r.Explain([]string{"1:55"}, run.ExplainOptions{Class: "5"})
	oneLine(t, "a class of a rating", err, "no class to name")
	_, err = r.ExplainRows(1, []float32{0, 99}, run.ExplainOptions{})
	oneLine(t, "a row outside", err, "row 1: (0, 99) is not a user index below 8 and a movie index below 12")
	var sb strings.Builder
	if err := ex.Print(&sb, false); err != nil || !strings.Contains(sb.String(), "predicted rating") || !strings.Contains(sb.String(), "movie_id") {
		t.Errorf("printed: %v\n%s", err, sb.String())
	}
	tests, err := r.ExplainTests(2, run.ExplainOptions{})
	if err != nil || len(tests.Items) != 2 {
		t.Errorf("test ratings: %v", err)
	}
}

// A classifier of rows ranks its features over its test split: one
// explanation, the mean absolute attribution per feature, drawn as a bar
// chart; images and other kinds are refused.
func TestExplainImportance(t *testing.T) {
	xor := openTrained(t, run.Config{Model: "xor"}, nil)
	ex, err := xor.ExplainImportance(run.ExplainOptions{})
	if err != nil {
		t.Fatal(err)
	}
	it, ok := ex.Items[0].(*run.ImportanceExplanation)
	if len(ex.Items) != 1 || !ok {
		t.Fatalf("importance: %+v", ex.Items)
	}
	// The mean of |attribution| over the test rows, each explained alone.
	d, err := xor.Data("")
	if err != nil {
		t.Fatal(err)
	}
	test := d.Test.(interface {
		Len() int
		Example(int, []float32) int
	})
	want := make([]float64, 2)
	for i := range test.Len() {
		row := make([]float32, 2)
		test.Example(i, row)
		one, err := xor.ExplainRows(1, row, run.ExplainOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for j, v := range one.Items[0].(*run.RowExplanation).Values {
			want[j] += math.Abs(v) / float64(test.Len())
		}
	}
	if it.Type != "importance" || it.Examples != test.Len() || !slices.Equal(it.Features, []string{"x1", "x2"}) || len(it.Values) != 2 ||
		math.Abs(it.Values[0]-want[0]) > 1e-9 || math.Abs(it.Values[1]-want[1]) > 1e-9 {
		t.Errorf("importance %+v, want values %v", it, want)
	}
	files, err := it.Files()
	if err != nil || len(files) != 1 || files[0].Suffix != ".png" || !strings.HasPrefix(string(files[0].Data), "\x89PNG") {
		t.Errorf("files: %v", err)
	}
	var sb strings.Builder
	if err := ex.Print(&sb, false); err != nil || !strings.Contains(sb.String(), "feature importance: mean |integrated gradients| of each example's predicted class over") {
		t.Errorf("printed: %v\n%s", err, sb.String())
	}

	d2 := smallFashion(t, 40)
	mlp := openTrained(t, run.Config{Model: "mlp", Dataset: d2.Name}, run.FromDataset(d2))
	_, err = mlp.ExplainImportance(run.ExplainOptions{})
	oneLine(t, "importance of images", err, "it ranks the features of a row")
	if !errors.Is(err, run.ErrDoesNotApply) {
		t.Errorf("importance of images: %v does not wrap ErrDoesNotApply", err)
	}
}

// writeTable writes rows as a CSV file in a new temporary folder and
// returns its path.
func writeTable(t *testing.T, name string, rows []string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(strings.Join(rows, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// A regression of a table's rows is explained as a classifier of rows
// is: each feature's attribution to the prediction, in the target's
// units (y = 100 + 30·x − 10·z: a row one unit of x above the mean gets
// about 30 from x), summing to the prediction's change from the
// baseline; and its features ranked over the test rows. A class is
// refused.
func TestExplainRegression(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	rows := []string{"x,z,colour,y"}
	for i := range 400 {
		x, z := rng.NormFloat64(), rng.NormFloat64()
		rows = append(rows, fmt.Sprintf("%.4f,%.4f,%s,%.4f", x, z, []string{"red", "blue"}[i%2], 100+30*x-10*z+rng.NormFloat64()))
	}
	cfg := run.Config{Model: "mlp", Dataset: writeTable(t, "reg.csv", rows), Table: &run.TableConfig{Target: "y"}}
	cfg.Epochs, cfg.BatchSize, cfg.LearningRate = 30, 16, 0.01
	r := openTrained(t, cfg, nil)
	if r.Kind != run.Regress || !r.Explains() {
		t.Fatalf("kind %s, explains %v", r.Kind.Name(), r.Explains())
	}
	p := r.Config.Table.Preprocessing
	in := writeTable(t, "rows.csv", []string{"colour,z,x", fmt.Sprintf("red,%g,%g", p.Columns[1].Mean, p.Columns[0].Mean+1)})
	ex, err := r.Explain([]string{in}, run.ExplainOptions{})
	if err != nil {
		t.Fatal(err)
	}
	e, ok := ex.Items[0].(*run.RowExplanation)
	if len(ex.Items) != 1 || !ok {
		t.Fatalf("explanations %+v", ex.Items)
	}
	var predicted bytes.Buffer
	if err := r.PredictTable(in, &predicted); err != nil {
		t.Fatal(err)
	}
	want, err := strconv.ParseFloat(strings.TrimSpace(predicted.String()[strings.LastIndexByte(strings.TrimSpace(predicted.String()), ',')+1:]), 64)
	if err != nil {
		t.Fatal(err)
	}
	if e.Type != "row" || e.Target != "y" || e.Prediction == nil || math.Abs(*e.Prediction-want) > 1e-3*math.Abs(want) || e.Quantity != explain.Prediction || e.ClassName != "" {
		t.Fatalf("explanation %+v, prediction %v, want %v", e, e.Prediction, want)
	}
	if !slices.Equal(e.Features[:2], []string{"x", "z"}) || !(e.Values[0] > 20 && e.Values[0] < 40) || math.Abs(e.Values[1]) > 5 {
		t.Errorf("features %v, attributions %v: want about 30 from x and little from z", e.Features, e.Values)
	}
	if math.Abs(*e.Delta) > 0.01*math.Abs(e.Output-*e.BaselineOutput) || math.Abs(e.Sum()-*e.Delta-(*e.Prediction-p.TargetMean-*e.BaselineOutput)) > 1e-9*math.Abs(want) {
		t.Errorf("attributions sum to %v, the prediction moves %v (delta %v)", e.Sum(), e.Output-*e.BaselineOutput, *e.Delta)
	}
	var sb strings.Builder
	if err := ex.Print(&sb, false); err != nil || !strings.Contains(sb.String(), "y predicted ") || !strings.Contains(sb.String(), "the prediction moves") || !strings.Contains(sb.String(), "colour=red") {
		t.Errorf("printed: %v\n%s", err, sb.String())
	}
	files, err := e.Files()
	if err != nil || len(files) != 1 || !strings.HasPrefix(string(files[0].Data), "\x89PNG") {
		t.Errorf("files: %v", err)
	}
	// A served row, the same values: the same attributions.
	served, err := r.ExplainRows(1, e.Row, run.ExplainOptions{})
	if err != nil || !slices.Equal(served.Items[0].(*run.RowExplanation).Values, e.Values) {
		t.Errorf("served row: %v", err)
	}
	tests, err := r.ExplainTests(2, run.ExplainOptions{Options: explain.Options{Method: explain.Occlusion}})
	if err != nil || len(tests.Items) != 2 || tests.Items[0].(*run.RowExplanation).Actual == nil {
		t.Fatalf("test rows: %v", err)
	}
	imp, err := r.ExplainImportance(run.ExplainOptions{})
	if err != nil {
		t.Fatal(err)
	}
	it := imp.Items[0].(*run.ImportanceExplanation)
	if it.Target != "y" || it.Features[0] != "x" || !(it.Values[0] > it.Values[1] && it.Values[1] > it.Values[2]) {
		t.Errorf("importance %+v: want x, then z, then the colour", it)
	}
	sb.Reset()
	if err := imp.Print(&sb, false); err != nil || !strings.Contains(sb.String(), "mean |integrated gradients| of the predicted y over") {
		t.Errorf("printed: %v\n%s", err, sb.String())
	}
	_, err = r.Explain([]string{in}, run.ExplainOptions{Class: "big"})
	oneLine(t, "a class of a regression", err, "a regression has no classes")
	_, err = r.Explain([]string{in}, run.ExplainOptions{Options: explain.Options{Quantity: explain.Probability}})
	oneLine(t, "a regression's probability", err, "its output is a prediction, not a probability")
	_, err = r.ExplainImportance(run.ExplainOptions{Class: "big"})
	oneLine(t, "a class of a regression's importance", err, "a regression has no classes")
}
