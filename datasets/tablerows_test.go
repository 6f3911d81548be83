package datasets_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/datasets"
)

// A saved preprocessing reads another table's rows as training read its
// own: ReadTable every row with its target, EachRows the rows to predict
// in chunks, their columns in any order, without the target.
func TestPreprocessingReadsNewRows(t *testing.T) {
	tab, err := datasets.LoadTable(writeTable(t, "flowers.csv", flowers(60)), datasets.TableOptions{Target: "species"})
	if err != nil {
		t.Fatal(err)
	}
	p := tab.Preprocessing
	all, sha, err := p.ReadTable(writeTable(t, "again.csv", flowers(60)))
	if err != nil {
		t.Fatal(err)
	}
	if all.Len() != 60 || len(sha) != 64 || tab.Train.Len()+tab.Test.Len() != 60 {
		t.Fatalf("%d rows (sha %q), table %d + %d", all.Len(), sha, tab.Train.Len(), tab.Test.Len())
	}
	// The rows of the training split are among ReadTable's, encoded alike.
	w := p.Width()
	x := tab.Train.X[:w]
	found := false
	for i := range all.Len() {
		found = found || slices.Equal(all.X[i*w:(i+1)*w], x) && all.Labels[i] == tab.Train.Labels[0]
	}
	if !found {
		t.Errorf("the first training row %v is not among the table's rows as ReadTable encodes them", x)
	}

	rows := writeTable(t, "new.csv", "colour,petal width,petal length,id\nblue,0.1,1,a\n\"red, dark\",0.4,3.1,b\nblue,0.7,5.2,c\n")
	var got [][]string
	var xs []float32
	err = p.EachRows(rows, 2, func(header []string, recs [][]string, x []float32) error {
		if strings.Join(header, "|") != "colour|petal width|petal length|id" {
			t.Errorf("header %q", header)
		}
		if len(x) != len(recs)*w {
			t.Errorf("%d values for %d rows of %d", len(x), len(recs), w)
		}
		for _, r := range recs {
			got = append(got, slices.Clone(r))
		}
		xs = append(xs, x...)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[1][0] != "red, dark" || got[2][3] != "c" {
		t.Errorf("rows %q", got)
	}
	// The same row with its columns in the training order encodes alike.
	one := writeTable(t, "one.csv", "petal length,petal width,colour\n1,0.1,blue\n")
	err = p.EachRows(one, 10, func(_ []string, _ [][]string, x []float32) error {
		if !slices.Equal(x, xs[:w]) {
			t.Errorf("reordered columns: %v, in order: %v", xs[:w], x)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	for _, c := range []struct{ text, want string }{
		{"colour,petal width\nblue,1\n", `no column "petal length"`},
		{"colour,petal width,petal length\nblue,1,x\n", `row 1, column "petal length": "x" is not a number`},
		{"colour,petal width,petal length\nblue,1\n", "row 1 has 2 fields, but the header has 3 columns"},
		{"colour,petal width,petal length\n", "a header and no rows"},
	} {
		err := p.EachRows(writeTable(t, "bad.csv", c.text), 10, func([]string, [][]string, []float32) error { return nil })
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("%q: %v, want one line containing %q", c.text, err, c.want)
		}
	}
	if _, _, err := p.ReadTable(rows); err == nil || !strings.Contains(err.Error(), `no target column "species"`) {
		t.Errorf("ReadTable without the target: %v", err)
	}
}
