package explain_test

import (
	"bytes"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"regexp"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/explain"
	"github.com/dlrun/dlrun/nn"
	"github.com/dlrun/dlrun/train"
)

// imageModel sums the pixels of a 1×4×4 image with weights +1 on the left
// half and −1 on the right (class 0; class 1 is 0).
func imageModel(t *testing.T) *explain.Explainer {
	w := make([]float64, 16*2)
	for i := range 16 {
		w[2*i] = 1
		if i%4 >= 2 {
			w[2*i] = -1
		}
	}
	return handModel(t, nn.NewSequential("halves", nn.NewFlatten(), nn.NewDense(2)), &train.Classify{Shape: []int{1, 4, 4}, Outputs: 2},
		map[string][]float64{"dense1.weight": w, "dense1.bias": {0, 0}})
}

// roundTrip encodes img as a PNG and decodes it.
func roundTrip(t *testing.T, img image.Image) image.Image {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	out, err := png.Decode(&b)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func rgb(img image.Image, x, y int) (r, g, b uint8) {
	c := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA)
	return c.R, c.G, c.B
}

// The heat map enlarges a 4×4 image to 224 pixels a side with a colour
// bar beneath; positive attributions are red, negative blue, none grey.
func TestHeatMap(t *testing.T) {
	e := imageModel(t)
	x := make([]float32, 16)
	for i := range x {
		if i/4 < 2 {
			x[i] = 1 // the top half is white, the bottom black
		}
	}
	a, err := e.Attribute(x, explain.Options{Target: explain.Class(0)})
	if err != nil {
		t.Fatal(err)
	}
	img, err := explain.HeatMap(a, x)
	if err != nil {
		t.Fatal(err)
	}
	img = roundTrip(t, img)
	if b := img.Bounds(); b.Dx() != 224 || b.Dy() != 224+40 {
		t.Fatalf("heat map %v, want 224 wide and 264 high", b)
	}
	// Top left: white pixels for the class (+1): red. Top right: white
	// against it (−1): blue. Bottom: black, attribution 0: grey.
	if r, _, b := rgb(img, 20, 20); !(r > b+60) {
		t.Errorf("a pixel for the class is (%d, %d), want red", r, b)
	}
	if r, _, b := rgb(img, 200, 20); !(b > r+60) {
		t.Errorf("a pixel against the class is (%d, %d), want blue", r, b)
	}
	if r, g, b := rgb(img, 20, 200); r != g || g != b {
		t.Errorf("a pixel without attribution is (%d, %d, %d), want grey", r, g, b)
	}
	// The colour bar runs from blue to red.
	if r, _, b := rgb(img, 6, 224+10); !(b > r) {
		t.Errorf("the colour bar starts at (%d, %d), want blue", r, b)
	}
	if r, _, b := rgb(img, 217, 224+10); !(r > b) {
		t.Errorf("the colour bar ends at (%d, %d), want red", r, b)
	}
	// Saliency: magnitudes in viridis, yellow at the top.
	s, err := e.Attribute(x, explain.Options{Method: explain.Saliency, Target: explain.Class(0)})
	if err != nil {
		t.Fatal(err)
	}
	img, err = explain.HeatMap(s, x)
	if err != nil {
		t.Fatal(err)
	}
	if r, g, b := rgb(img, 20, 200); !(r > b && g > b) {
		t.Errorf("a salient pixel is (%d, %d, %d), want yellow", r, g, b)
	}
}

// Bars are drawn largest first, red right of zero and blue left of it; a
// long list is cut at MaxBars.
func TestBarChart(t *testing.T) {
	img, err := explain.BarChart("attributions", []string{"small", "negative", "large"}, []float64{0.1, -1, 2})
	if err != nil {
		t.Fatal(err)
	}
	img = roundTrip(t, img)
	h := img.Bounds().Dy()
	// Rows of 18 pixels from y = 34: large, negative, small; the bars
	// span 360 pixels from x = 184 over [-1, 2]: zero at x = 304.
	if r, _, b := rgb(img, 400, 34+9); !(r > b+60) {
		t.Errorf("the large bar is (%d, %d), want red", r, b)
	}
	if r, _, b := rgb(img, 250, 34+18+9); !(b > r+60) {
		t.Errorf("the negative bar is (%d, %d), want blue", r, b)
	}
	if r, g, b := rgb(img, 400, 34+2*18+9); r != 255 || g != 255 || b != 255 {
		t.Errorf("past the small bar: (%d, %d, %d), want white", r, g, b)
	}
	names := make([]string, explain.MaxBars+5)
	values := make([]float64, len(names))
	for i := range names {
		names[i], values[i] = "feature", float64(i)
	}
	long, err := explain.BarChart("many", names, values)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := long.Bounds().Dy(), h+(explain.MaxBars-3+1)*18; got != want {
		t.Errorf("a chart of %d values is %d high, want %d (%d bars and a line)", len(names), got, want, explain.MaxBars)
	}
}

// Text from the model's vocabulary reaches the terminal and the page only
// as visible characters: no escape sequence or markup of its own.
func TestTextIsEscaped(t *testing.T) {
	a := &explain.TextAttribution{
		Attribution: explain.Attribution{Values: []float64{1, -1, 0.5, 0, 0.2, -0.3, 0.1}},
		Tokens:      []string{"\x1b[31m", "<script>", "\n", "\x00", "é", "\xff", `"&'`},
		Next:        "\x1b]0;title\x07",
	}
	var term strings.Builder
	if err := explain.WriteANSI(&term, a); err != nil {
		t.Fatal(err)
	}
	out := term.String()
	ours := regexp.MustCompile(`\x1b\[(48;2;\d+;\d+;\d+|38;2;\d+;\d+;\d+|0)m`)
	if rest := ours.ReplaceAllString(out, ""); strings.ContainsAny(rest, "\x1b\x00\x07") {
		t.Errorf("the terminal gets control characters of the text: %q", rest)
	}
	for _, want := range []string{"␛[31m", "<script>", "↵\x1b[0m\n", "␀", "é", `\ufffd`, "␛]0;title␇"} {
		if !strings.Contains(out, want) {
			t.Errorf("the terminal's text lacks %q: %q", want, out)
		}
	}
	var page strings.Builder
	if err := explain.WriteHTML(&page, a); err != nil {
		t.Fatal(err)
	}
	html := page.String()
	if strings.Contains(html, "<script>") || strings.ContainsAny(html, "\x1b\x00\x07") {
		t.Errorf("the page holds the text's markup or control characters: %q", html)
	}
	for _, want := range []string{"<!DOCTYPE html>", "&lt;script&gt;", "&#34;&amp;&#39;", `title="+1"`, `title="-1"`, "↵</span>\n"} {
		if !strings.Contains(html, want) {
			t.Errorf("the page lacks %q: %q", want, html)
		}
	}
}

// Without colour, the text is listed: the context as visible characters
// and the tokens of largest attribution, largest first, with their
// positions and values.
func TestWritePlain(t *testing.T) {
	a := &explain.TextAttribution{
		Attribution: explain.Attribution{Values: []float64{0.1, -2, 0.5, 0}},
		Tokens:      []string{"a", "\n", "\x1b", "b"},
		Next:        "c",
	}
	var b strings.Builder
	if err := explain.WritePlain(&b, a); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if strings.ContainsAny(out, "\x1b\x00") {
		t.Errorf("control characters of the text: %q", out)
	}
	want := "context: a↵␛b\n  token 2 \"↵\": -2\n  token 3 \"␛\": +0.5\n  token 1 \"a\": +0.1\n  token 4 \"b\": +0\n"
	if !strings.HasPrefix(out, `Next token "c": logit 0`) || !strings.HasSuffix(out, want) {
		t.Errorf("plain text:\n%s\nwant it to end with\n%s", out, want)
	}
}

// An attribution marshals as the arrays and figures dlrun writes with
// --json; saliency has no baseline.
func TestAttributionJSON(t *testing.T) {
	e := imageModel(t)
	x := make([]float32, 16)
	x[0] = 1
	for _, c := range []struct {
		opt  explain.Options
		keys []string
		not  []string
	}{
		{explain.Options{}, []string{"method", "class", "shape", "values", "output", "baseline", "steps", "rule", "baseline_output", "delta"}, []string{"window"}},
		{explain.Options{Method: explain.Saliency}, []string{"method", "class", "shape", "values", "output"}, []string{"baseline", "baseline_output", "delta"}},
		{explain.Options{Method: explain.Occlusion}, []string{"baseline", "window", "stride"}, []string{"delta"}},
	} {
		a, err := e.Attribute(x, c.opt)
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		for _, k := range c.keys {
			if _, ok := m[k]; !ok {
				t.Errorf("%s: no %q in %s", a.Method, k, b)
			}
		}
		for _, k := range c.not {
			if _, ok := m[k]; ok {
				t.Errorf("%s: %q in %s", a.Method, k, b)
			}
		}
		if v, _ := m["values"].([]any); len(v) != 16 {
			t.Errorf("%s: %d values, want 16", a.Method, len(v))
		}
	}
}
