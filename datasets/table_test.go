package datasets_test

import (
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dlrun/dlrun/datasets"
	"github.com/dlrun/dlrun/internal/allocs"
	"github.com/dlrun/dlrun/internal/safeio"
)

// writeTable writes text to dir/name and returns its path.
func writeTable(t *testing.T, name, text string) string {
	t.Helper()
	return putFile(t, t.TempDir(), name, []byte(text))
}

// flowers is a small iris-like table: two numeric columns, a category
// with a quoted comma and a quoted line break, a string target.
func flowers(n int) string {
	return flowersHeader + strings.Join(flowerRows(n), "")
}

const flowersHeader = "\ufeffpetal length, petal width ,colour,species\n"

// flowerRows are the records of flowers, each ending in a line break.
func flowerRows(n int) []string {
	var rows []string
	species := []string{"setosa", "versicolor", "virginica"}
	colours := []string{"blue", `"red, dark"`, "\"white\nish\""}
	for i := range n {
		s := i % 3
		rows = append(rows, fmt.Sprintf("%g, %g,%s,%s\n", 1.0+float64(s)*2+float64(i%7)*0.1, 0.1+float64(i%5)*0.3, colours[(i/3)%3], species[s]))
	}
	return rows
}

// columnStats returns the mean and population standard deviation of
// input j over the rows of s.
func columnStats(s *datasets.TableSplit, j int) (mean, std float64) {
	w := s.Shape()[0]
	for i := range s.Len() {
		mean += float64(s.X[i*w+j])
	}
	mean /= float64(s.Len())
	for i := range s.Len() {
		d := float64(s.X[i*w+j]) - mean
		std += d * d
	}
	return mean, math.Sqrt(std / float64(s.Len()))
}

func TestTableClassification(t *testing.T) {
	path := writeTable(t, "flowers.csv", flowers(60))
	tab, err := datasets.LoadTable(path, datasets.TableOptions{Target: "species"})
	if err != nil {
		t.Fatal(err)
	}
	p := tab.Preprocessing
	if p.Task != datasets.TaskClassify || !slices.Equal(p.Classes, []string{"setosa", "versicolor", "virginica"}) {
		t.Fatalf("task %s, classes %v", p.Task, p.Classes)
	}
	if got := p.Inputs(); !slices.Equal(got, []string{"petal length", "petal width", "colour=blue", "colour=red, dark", "colour=white\nish"}) {
		t.Fatalf("inputs %q", got)
	}
	// 20 rows of each class, 4 of each held out.
	if tab.Train.Len() != 48 || tab.Test.Len() != 12 || tab.Train.NumClasses() != 3 || !slices.Equal(tab.Train.Shape(), []int{5}) {
		t.Fatalf("%d training rows, %d test rows, %d classes, shape %v", tab.Train.Len(), tab.Test.Len(), tab.Train.NumClasses(), tab.Train.Shape())
	}
	for c := range 3 {
		if n := countOf(tab.Test.Labels, c); n != 4 {
			t.Errorf("class %d: %d test rows, want 4", c, n)
		}
	}
	// Standardised by the training rows' statistics: there, each numeric
	// input has mean 0 and standard deviation 1.
	for j := range 2 {
		if m, s := columnStats(tab.Train, j); math.Abs(m) > 1e-6 || math.Abs(s-1) > 1e-6 {
			t.Errorf("input %d: training mean %g, std %g", j, m, s)
		}
	}
	// Every row is one-hot in its colour.
	for i := range tab.Train.Len() {
		x := tab.Train.X[i*5 : i*5+5]
		if x[2]+x[3]+x[4] != 1 {
			t.Fatalf("row %d: colour %v", i, x[2:])
		}
	}
	// The split depends on the rows, not their order.
	rows := flowerRows(60)
	slices.Reverse(rows)
	again, err := datasets.LoadTable(writeTable(t, "f.csv", flowersHeader+strings.Join(rows, "")), datasets.TableOptions{Target: "species"})
	if err != nil {
		t.Fatal(err)
	}
	if !sameRows(tab.Test, again.Test) {
		t.Fatal("the held-out rows changed with the order of the file")
	}
	if tab.SHA256 == again.SHA256 {
		t.Fatal("two files hash alike")
	}
}

// sameRows reports whether a and b hold the same rows, in any order.
func sameRows(a, b *datasets.TableSplit) bool {
	key := func(s *datasets.TableSplit) []string {
		var out []string
		w := s.Shape()[0]
		for i := range s.Len() {
			out = append(out, fmt.Sprint(s.X[i*w:(i+1)*w], s.Labels[i]))
		}
		slices.Sort(out)
		return out
	}
	return slices.Equal(key(a), key(b))
}

func countOf(xs []int, v int) int {
	n := 0
	for _, x := range xs {
		if x == v {
			n++
		}
	}
	return n
}

// The target's values decide the task: text or a few whole numbers
// classify, other numbers regress; the task can be forced.
func TestTableTask(t *testing.T) {
	table := func(target func(i int) string) string {
		var b strings.Builder
		b.WriteString("x,y\n")
		for i := range 50 {
			fmt.Fprintf(&b, "%d,%s\n", i, target(i))
		}
		return b.String()
	}
	for _, c := range []struct {
		name    string
		target  func(i int) string
		task    string
		want    string
		classes []string
	}{
		{"whole numbers", func(i int) string { return []string{"10", "2", "30.0"}[i%3] }, "", datasets.TaskClassify, []string{"2", "10", "30"}},
		{"many whole numbers", func(i int) string { return fmt.Sprint(i % 25) }, "", datasets.TaskRegress, nil},
		{"fractions", func(i int) string { return fmt.Sprint(float64(i%3) + 0.5) }, "", datasets.TaskRegress, nil},
		{"forced classification", func(i int) string { return fmt.Sprint(float64(i%3) + 0.5) }, datasets.TaskClassify, datasets.TaskClassify, []string{"0.5", "1.5", "2.5"}},
		{"forced regression", func(i int) string { return fmt.Sprint(i % 3) }, datasets.TaskRegress, datasets.TaskRegress, nil},
	} {
		tab, err := datasets.LoadTable(writeTable(t, "t.csv", table(c.target)), datasets.TableOptions{Target: "y", Task: c.task})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		p := tab.Preprocessing
		if p.Task != c.want || !slices.Equal(p.Classes, c.classes) {
			t.Errorf("%s: task %s, classes %v; want %s, %v", c.name, p.Task, p.Classes, c.want, c.classes)
		}
		if c.want == datasets.TaskRegress {
			var sum float64
			for _, v := range tab.Train.Targets {
				sum += float64(v)
			}
			if math.Abs(sum/float64(len(tab.Train.Targets))) > 1e-6 || tab.Train.Labels != nil || len(tab.Train.Targets) != tab.Train.Len() {
				t.Errorf("%s: training targets not standardised: mean %g", c.name, sum/float64(len(tab.Train.Targets)))
			}
			if y := p.Prediction(float64(tab.Train.Targets[0])); math.Abs(y-p.TargetMean-float64(tab.Train.Targets[0])*p.TargetStd) > 1e-9 {
				t.Errorf("%s: Prediction %g", c.name, y)
			}
		}
	}
	_, err := datasets.LoadTable(writeTable(t, "t.csv", table(func(i int) string { return "abc"[i%3 : i%3+1] })), datasets.TableOptions{Target: "y", Task: datasets.TaskRegress})
	checkOneLineError(t, err, "t.csv:2: row 1, column \"y\"", `"a" is not a number (a regression's target must be a number)`)
}

// Up to MaxOneHot categories are one-hot; more get an embedding index;
// a category the training rows lack is all zeros, or index 0.
func TestTableCategories(t *testing.T) {
	var b strings.Builder
	b.WriteString("city,size,label\n")
	for i := range 200 {
		fmt.Fprintf(&b, "c%02d,%s,%d\n", i%40, []string{"S", "M", "L"}[i%3], i%2)
	}
	tab, err := datasets.LoadTable(writeTable(t, "c.csv", b.String()), datasets.TableOptions{Target: "label", Categorical: nil})
	if err != nil {
		t.Fatal(err)
	}
	p := tab.Preprocessing
	if p.Columns[0].Kind != datasets.KindEmbedding || len(p.Columns[0].Categories) != 40 || p.Columns[1].Kind != datasets.KindOneHot || p.Width() != 4 {
		t.Fatalf("columns %+v", p.Columns)
	}
	enc, err := p.Encoder([]string{"size", "city", "extra"})
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, 4)
	if err := enc.Encode([]string{"XL", "c07", "ignored"}, x); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(x, []float32{8, 0, 0, 0}) { // c07 is category 7, index 8; XL is unknown
		t.Fatalf("encoded %v", x)
	}
	if enc.HasTarget() {
		t.Fatal("a header without the target has it")
	}
	if _, err := p.Encoder([]string{"size"}); err == nil || !strings.Contains(err.Error(), `no column "city", which the model reads`) {
		t.Fatalf("a header without a feature column: %v", err)
	}
	// A numeric column can be read as categories.
	tab, err = datasets.LoadTable(writeTable(t, "c.csv", "zip,y\n10115,a\n20095,b\n10115,a\n80331,b\n10115,b\n"), datasets.TableOptions{Target: "y", Categorical: []string{"zip"}})
	if err != nil {
		t.Fatal(err)
	}
	if c := tab.Preprocessing.Columns[0]; c.Kind != datasets.KindOneHot {
		t.Fatalf("zip: %+v", c)
	}
}

// Missing values are an error naming the row and column, unless filled.
func TestTableMissing(t *testing.T) {
	text := "a,b,y\n1,x,p\n2,NA,q\n,y,p\n4,x,q\n5,y,p\n6,x,q\n7,y,p\n8,x,q\n9,y,p\n10,x,q\n"
	path := writeTable(t, "m.csv", text)
	_, err := datasets.LoadTable(path, datasets.TableOptions{Target: "y"})
	checkOneLineError(t, err, path+":3: row 2, column \"b\"", "missing value (set fill to mean or zero to fill missing values)")
	for _, fill := range []string{datasets.FillMean, datasets.FillZero} {
		tab, err := datasets.LoadTable(path, datasets.TableOptions{Target: "y", Fill: fill})
		if err != nil {
			t.Fatal(err)
		}
		c := tab.Preprocessing.Columns[0]
		enc, _ := tab.Preprocessing.Encoder([]string{"a", "b", "y"})
		x := make([]float32, tab.Preprocessing.Width())
		if err := enc.Encode([]string{"", "NA", "p"}, x); err != nil {
			t.Fatal(err)
		}
		want := float32(0) // the mean, standardised
		if fill == datasets.FillZero {
			want = float32(-c.Mean / c.Std)
		}
		if x[0] != want || x[1] != 0 || x[2] != 0 {
			t.Errorf("fill %s: %v, want %g then zeros", fill, x, want)
		}
	}
	// A target cannot be filled.
	_, err = datasets.LoadTable(writeTable(t, "m.csv", "a,y\n1,p\n2,\n3,q\n"), datasets.TableOptions{Target: "y", Fill: datasets.FillMean})
	checkOneLineError(t, err, "m.csv:3: row 2, column \"y\"", "missing value: a row's target cannot be filled")
}

// Broken tables are one-line errors naming the file and, where there is
// one, the row and column.
func TestTableHostile(t *testing.T) {
	wide := func(n int, name func(i int) string) string {
		var b strings.Builder
		for i := range n {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(name(i))
		}
		return b.String() + "\n"
	}
	for _, c := range []struct {
		name, text string
		opt        datasets.TableOptions
		at, want   string
	}{
		{"empty", "", datasets.TableOptions{Target: "y"}, "t.csv", "empty: want a header naming the columns, then rows"},
		{"header only", "x,y\n", datasets.TableOptions{Target: "y"}, "t.csv", "0 rows: a table needs at least two"},
		{"no target", "x,z\n1,2\n", datasets.TableOptions{Target: "y"}, "t.csv", `no target column "y" (its columns: "x", "z")`},
		{"no target named", "x,y\n1,2\n", datasets.TableOptions{}, "t.csv", "no target column: name the column to predict"},
		{"ragged row", "x,y\n1,a\n2\n3,b\n", datasets.TableOptions{Target: "y"}, "t.csv:3", "row 2 has 1 fields, but the header has 2 columns"},
		{"bad quote", "x,y\n1,\"a\n", datasets.TableOptions{Target: "y"}, "t.csv:2", "extraneous or missing \" in quoted-field"},
		{"not UTF-8", "x,y\n1,a\n\xff,b\n", datasets.TableOptions{Target: "y"}, "t.csv:3", `row 2, column "x": not UTF-8 text`},
		{"infinite", "x,y\n1,a\ninf,b\n3,a\n", datasets.TableOptions{Target: "y"}, "t.csv:3", `row 2, column "x": "inf" is not a finite number`},
		{"hexadecimal", "x,y\n1,a\n0x1p3,b\n3,a\n", datasets.TableOptions{Target: "y"}, "t.csv:3", `"0x1p3" is not a decimal number`},
		{"regression target infinite", "x,y\n1,1.5\n2,1e999\n3,2.5\n", datasets.TableOptions{Target: "y"}, "t.csv:3", `row 2, column "y": "1e999" is not a finite number`},
		{"one class", "x,y\n1,a\n2,a\n", datasets.TableOptions{Target: "y"}, "t.csv", `target column "y": a single class ("a")`},
		{"column all missing", "x,z,y\n1,,a\n2,NA,b\n", datasets.TableOptions{Target: "y"}, "t.csv", `column "z": every value is missing: ignore it`},
		{"columns named twice", "x,x,y\n1,2,a\n", datasets.TableOptions{Target: "y"}, "t.csv:1", `columns 1 and 2 are both named "x"`},
		{"only the target", "y\na\nb\n", datasets.TableOptions{Target: "y"}, "t.csv", `no feature columns besides the target "y"`},
		{"unknown ignored column", "x,y\n1,a\n", datasets.TableOptions{Target: "y", Ignore: []string{"id"}}, "t.csv", `no column "id"`},
		{"bad task", "x,y\n1,a\n", datasets.TableOptions{Target: "y", Task: "cluster"}, "t.csv", `task "cluster"`},
		{"bad fill", "x,y\n1,a\n", datasets.TableOptions{Target: "y", Fill: "median"}, "t.csv", `fill "median": want mean, zero or none`},
		{"100,000 columns", wide(100_000, func(i int) string { return fmt.Sprint("c", i) }) + "1\n", datasets.TableOptions{Target: "c1"}, "t.csv:1", "line longer than 65536 bytes"},
		{"5,000 columns", wide(5000, func(i int) string { return fmt.Sprint(i) }) + "1\n", datasets.TableOptions{Target: "1"}, "t.csv:1", "a header of 5000 columns, more than the 4096 a table may have (MaxTableColumns)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			path := putFile(t, dir, "t.csv", []byte(c.text))
			var err error
			start := time.Now()
			n := allocs.Bytes(func() { _, err = datasets.LoadTable(path, c.opt) })
			checkOneLineError(t, err, filepath.Join(dir, c.at), c.want)
			if n > 16<<20 {
				t.Errorf("allocated %d bytes", n)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

// A column of more than MaxCategories distinct values is refused.
func TestTableTooManyCategories(t *testing.T) {
	var b strings.Builder
	b.WriteString("id,y\n")
	for i := range datasets.MaxCategories + 2000 { // 99% of them training rows
		fmt.Fprintf(&b, "u%d,%d\n", i, i%2)
	}
	_, err := datasets.LoadTable(writeTable(t, "ids.csv", b.String()), datasets.TableOptions{Target: "y", HeldOut: 0.01})
	checkOneLineError(t, err, "ids.csv", `column "id": more than 65536 distinct values (MaxCategories): an id or free text? ignore it`)
}

// A test file gives the test rows; its columns may come in another order.
func TestTableTestFile(t *testing.T) {
	dir := t.TempDir()
	trainPath := putFile(t, dir, "train.csv", []byte("a,c,y\n1,u,p\n2,v,q\n3,u,p\n4,v,q\n"))
	testPath := putFile(t, dir, "test.csv", []byte("y,c,a\nq,v,2\np,w,9\n"))
	tab, err := datasets.LoadTable(trainPath, datasets.TableOptions{Target: "y", Test: testPath})
	if err != nil {
		t.Fatal(err)
	}
	if tab.Train.Len() != 4 || tab.Test.Len() != 2 || !slices.Equal(tab.Test.Labels, []int{1, 0}) {
		t.Fatalf("%d + %d rows, test labels %v", tab.Train.Len(), tab.Test.Len(), tab.Test.Labels)
	}
	// The test row of a is standardised by the training rows: mean 2.5,
	// std √1.25; w is an unseen category.
	want := []float32{float32((9 - 2.5) / math.Sqrt(1.25)), 0, 0}
	if got := tab.Test.X[3:]; math.Abs(float64(got[0]-want[0])) > 1e-6 || got[1] != 0 || got[2] != 0 {
		t.Fatalf("test row 2: %v, want %v", got, want)
	}
	putFile(t, dir, "test.csv", []byte("y,c,a\nq,v,x\n"))
	_, err = datasets.LoadTable(trainPath, datasets.TableOptions{Target: "y", Test: testPath})
	checkOneLineError(t, err, testPath+":2: row 1, column \"a\"", `"x" is not a number`)
}

// A gzipped table reads as the plain one, and hashes as stored.
func TestTableGzipped(t *testing.T) {
	text := flowers(30)
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write([]byte(text))
	w.Close()
	plain, err := datasets.LoadTable(writeTable(t, "f.csv", text), datasets.TableOptions{Target: "species"})
	if err != nil {
		t.Fatal(err)
	}
	zipped, err := datasets.LoadTable(writeTable(t, "f.csv.gz", gz.String()), datasets.TableOptions{Target: "species"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(plain.Train.X, zipped.Train.X) || plain.SHA256 == zipped.SHA256 {
		t.Fatal("the gzipped table differs, or hashes as the plain one")
	}
}

// A preprocessing saved as JSON reads back the same and encodes new rows
// as the table's own.
func TestPreprocessingJSON(t *testing.T) {
	tab, err := datasets.LoadTable(writeTable(t, "f.csv", flowers(30)), datasets.TableOptions{Target: "species"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := tab.Preprocessing.WriteJSON()
	if err != nil {
		t.Fatal(err)
	}
	p, err := datasets.ReadPreprocessing(b, "preprocessing.json")
	if err != nil {
		t.Fatal(err)
	}
	b2, _ := p.WriteJSON()
	if !bytes.Equal(b, b2) {
		t.Fatalf("read back differently:\n%s\n%s", b, b2)
	}
	enc, err := p.Encoder([]string{"species", "colour", "petal width", "petal length"})
	if err != nil {
		t.Fatal(err)
	}
	// Row 5 of flowers(30), its columns in another order, encodes as the
	// table's row did.
	row, err := csv.NewReader(strings.NewReader(flowerRows(30)[4])).Read()
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, p.Width())
	if err := enc.Encode([]string{"", row[2], row[1], row[0]}, x); err != nil {
		t.Fatal(err)
	}
	found := false
	for i := range tab.Train.Len() + tab.Test.Len() {
		s, j := tab.Train, i
		if i >= tab.Train.Len() {
			s, j = tab.Test, i-tab.Train.Len()
		}
		if slices.Equal(s.X[j*5:j*5+5], x) {
			found = true
		}
	}
	if !found {
		t.Fatalf("encoded %v, which no row of the table is", x)
	}
	for _, c := range []struct{ name, json, want string }{
		{"not JSON", "{", "not a preprocessing"},
		{"unknown field", `{"task":"classify","extra":1}`, `unknown field "extra"`},
		{"two values", `{"task":"regress"} {}`, "more than one JSON value"},
		{"bad task", `{"task":"x"}`, `task "x"`},
		{"no columns", `{"task":"regress","target":"y","target_std":1,"columns":[]}`, "no feature columns"},
		{"zero std", `{"task":"regress","target":"y","target_std":1,"columns":[{"name":"a","kind":"numeric","std":0}]}`, `column "a": mean 0 and standard deviation 0`},
		{"unsorted", `{"task":"regress","target":"y","target_std":1,"columns":[{"name":"a","kind":"onehot","categories":["b","a"]}]}`, `categories out of order ("a" after "b")`},
		{"embedding of few", `{"task":"regress","target":"y","target_std":1,"columns":[{"name":"a","kind":"embedding","categories":["a"]}]}`, "embedding column \"a\" has 1 categories"},
		{"target as a column", `{"task":"regress","target":"y","target_std":1,"columns":[{"name":"y","kind":"numeric","std":1}]}`, `"y" is named twice (or is the target)`},
		{"one class", `{"task":"classify","target":"y","classes":["a"],"columns":[{"name":"x","kind":"numeric","std":1}]}`, "1 classes: want 2 to 4096"},
		{"classes twice", `{"task":"classify","target":"y","classes":["a","a"],"columns":[{"name":"x","kind":"numeric","std":1}]}`, `"a" listed twice`},
	} {
		_, err := datasets.ReadPreprocessing([]byte(c.json), "p.json")
		checkOneLineError(t, err, "p.json", c.want)
	}
	if _, err := datasets.ReadPreprocessing(make([]byte, datasets.MaxPreprocessingBytes+1), "big.json"); !errors.Is(err, safeio.ErrTooLarge) {
		t.Fatalf("a preprocessing past the limit: %v", err)
	}
}

// The table fixtures: the valid ones load, plain and gzipped; each
// hostile one is a one-line error naming the file, and where it is.
func TestFixturesTables(t *testing.T) {
	for _, name := range []string{"table-valid.csv", "table-valid.csv.gz"} {
		tab, err := datasets.LoadTable(fixture(name), datasets.TableOptions{Target: "y", HeldOut: 0.4})
		if err != nil {
			t.Fatal(err)
		}
		if tab.Train.Len() != 3 || tab.Test.Len() != 2 {
			t.Fatalf("%s: %d + %d rows", name, tab.Train.Len(), tab.Test.Len())
		}
		b, err := os.ReadFile(fixture("preprocessing-valid.json"))
		if err != nil {
			t.Fatal(err)
		}
		if want, _ := tab.Preprocessing.WriteJSON(); !bytes.Equal(b, want) {
			t.Fatalf("%s: preprocessing differs from preprocessing-valid.json:\n%s", name, want)
		}
	}
	for _, c := range []struct{ name, want string }{
		{"table-ragged.csv", ":3: row 2 has 2 fields, but the header has 3 columns"},
		{"table-missing.csv", `:3: row 2, column "x": missing value`},
		{"table-not-utf8.csv", `:2: row 1, column "colour": not UTF-8 text`},
		{"table-infinite.csv", `:3: row 2, column "x": "inf" is not a finite number`},
		{"table-header-100000-columns.csv.gz", ":1: line longer than 65536 bytes"},
	} {
		var err error
		n := allocs.Bytes(func() { _, err = datasets.LoadTable(fixture(c.name), datasets.TableOptions{Target: "y"}) })
		checkOneLineError(t, err, fixture(c.name)+c.want, "")
		// csv.Reader takes some 150 bytes for each field of a record, and
		// a record of MaxLineBytes commas has as many fields.
		if n > 1<<20+160*datasets.MaxLineBytes {
			t.Errorf("%s: allocated %d bytes", c.name, n)
		}
	}
	_, err := datasets.ReadPreprocessing(readFixture(t, "preprocessing-bad-kind.json"), "preprocessing-bad-kind.json")
	checkOneLineError(t, err, "preprocessing-bad-kind.json", `column "x": kind "ordinal"`)
}

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(fixture(name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
