package train_test

import (
	"math"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/graph"
	"github.com/dlrun/dlrun/nn"
	"github.com/dlrun/dlrun/train"
)

// A classifier's Outputs are its logits: softmax of each row is Predict's
// row, bit for bit.
func TestOutputsOfAClassifierAreItsLogits(t *testing.T) {
	d := smallFashion(t, 64)
	model, task := reference(t, "mlp", d)
	tr, err := train.New(model, task, train.Config{Epochs: 1, BatchSize: 16})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Fit(d.Train, d.Test, nil); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := tr.Save(dir); err != nil {
		t.Fatal(err)
	}
	tr.Close()
	m, err := train.Load(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	x := d.Test.X[:3*784]
	logits, err := m.Outputs(x)
	if err != nil {
		t.Fatal(err)
	}
	probs, err := m.Predict(x)
	if err != nil {
		t.Fatal(err)
	}
	if len(logits) != 3 || len(probs) != 3 {
		t.Fatalf("%d rows of outputs and %d of predictions for 3 examples", len(logits), len(probs))
	}
	for i := range logits {
		if len(logits[i]) != 10 {
			t.Fatalf("row %d: %d outputs, want 10", i, len(logits[i]))
		}
		p := softmax(logits[i])
		for j := range p {
			if p[j] != probs[i][j] {
				t.Errorf("example %d class %d: softmax of the outputs %v, Predict %v", i, j, p[j], probs[i][j])
			}
		}
	}
	if _, err := m.Outputs(x[:100]); err == nil || !strings.Contains(err.Error(), "100 values") {
		t.Errorf("100 values: error %v, want one naming them", err)
	}
}

// A next-token model's Outputs are T rows of logits per sequence, each
// sequence read from the zero state: the same whether it is alone or
// among others, in a batch or past one, and whatever came before.
func TestOutputsOfANextTokenModel(t *testing.T) {
	const V, T, batch = 7, 5, 4
	model := nn.NewSequential("tiny-lm", nn.NewEmbedding(V, 8),
		&nn.Recurrent{Cell: graph.LSTMCell, Hidden: 16, ReturnSequences: true, Stateful: true}, nn.NewDense(V))
	tr, err := train.New(model, &train.NextToken{Vocab: V, SeqLen: T}, train.Config{Epochs: 1, BatchSize: batch})
	if err != nil {
		t.Fatal(err)
	}
	text := make(train.Tokens, 200)
	for i := range text {
		text[i] = (i*i + i/3) % V
	}
	if _, err := tr.Fit(text, text[:50], nil); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := tr.Save(dir); err != nil {
		t.Fatal(err)
	}
	tr.Close()
	m, err := train.Load(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()

	const n = 6 // more sequences than a batch
	x := make([]float32, n*T)
	for i := range x {
		x[i] = float32((3*i + i/T) % V)
	}
	all, err := m.Outputs(x)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != n*T {
		t.Fatalf("%d rows for %d sequences of %d steps, want %d", len(all), n, T, n*T)
	}
	for i := n - 1; i >= 0; i-- { // backwards: each call follows another
		one, err := m.Outputs(x[i*T : (i+1)*T])
		if err != nil {
			t.Fatal(err)
		}
		for s := range T {
			row := all[i*T+s]
			if len(row) != V {
				t.Fatalf("sequence %d step %d: %d logits, want %d", i, s, len(row), V)
			}
			for j := range row {
				if one[s][j] != row[j] {
					t.Fatalf("sequence %d step %d token %d: %v alone, %v among %d sequences", i, s, j, one[s][j], row[j], n)
				}
			}
		}
	}
	// The model is not a classifier: Predict refuses it.
	if _, err := m.Predict(x); err == nil || !strings.Contains(err.Error(), "next-token") {
		t.Errorf("Predict of a next-token model: error %v", err)
	}
	for _, bad := range [][]float32{{0, 1, 2}, {0, 1, 2, 3, V}, {0, 1, -1, 3, 4}, {0, 1, 2.5, 3, 4}} {
		if _, err := m.Outputs(bad); err == nil || strings.Contains(err.Error(), "\n") {
			t.Errorf("Outputs(%v): error %v, want one line", bad, err)
		}
	}
}

func softmax(row []float64) []float64 {
	m := row[0]
	for _, v := range row {
		m = max(m, v)
	}
	p := make([]float64, len(row))
	sum := 0.0
	for i, v := range row {
		p[i] = math.Exp(v - m)
		sum += p[i]
	}
	for i := range p {
		p[i] /= sum
	}
	return p
}
