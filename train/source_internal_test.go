package train

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/dlrun/dlrun/datasets"
	"github.com/dlrun/dlrun/nn"
)

// The batches of an augmented streamed pass are the same, value for
// value, with 1 worker and with 4, and with 1 or 5 batches read ahead.
func TestStreamedBatchesIndependentOfWorkers(t *testing.T) {
	dir := t.TempDir()
	for c := range 3 {
		for i := range 23 {
			img := image.NewGray(image.Rect(0, 0, 6, 6))
			for j := range img.Pix {
				img.Pix[j] = uint8(c*50 + i*7 + j*3)
			}
			var b bytes.Buffer
			png.Encode(&b, img)
			path := filepath.Join(dir, fmt.Sprint(c), fmt.Sprintf("%02d.png", i))
			os.MkdirAll(filepath.Dir(path), 0o755)
			if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	f, err := datasets.OpenImageFolder(dir, datasets.ImageFolderOptions{Augment: datasets.Augmentation{CropPadding: 2, Flip: true}})
	if err != nil {
		t.Fatal(err)
	}
	batches := func(workers, prefetch int) (xs [][]float32, labels [][]int) {
		m := nn.NewSequential("m", nn.NewFlatten(), nn.NewDense(3))
		tr, err := New(m, &Classify{Shape: f.Shape, Outputs: 3}, Config{BatchSize: 8, Workers: workers, Prefetch: prefetch})
		if err != nil {
			t.Fatal(err)
		}
		defer tr.Close()
		c := tr.task.(*Classify)
		for pass := range 2 {
			c.augmentNext(uint64(pass) + 100)
			n, err := c.Pass(f.Train, rand.New(rand.NewPCG(uint64(pass), 1)))
			if err != nil {
				t.Fatal(err)
			}
			for i := range n {
				if _, err := c.Fill(i); err != nil {
					t.Fatal(err)
				}
				xs = append(xs, slices.Clone(c.xT.Float32s()))
				labels = append(labels, slices.Clone(c.labels))
			}
		}
		return xs, labels
	}
	x1, l1 := batches(1, 1)
	x4, l4 := batches(4, 5)
	if len(x1) != 2*7 { // 54 training images (3 × 23, 5 of each held out) in batches of 8
		t.Fatalf("%d batches", len(x1))
	}
	for i := range x1 {
		if !slices.Equal(x1[i], x4[i]) || !slices.Equal(l1[i], l4[i]) {
			t.Fatalf("batch %d differs between 1 and 4 workers", i)
		}
	}
	if slices.Equal(x1[0], x1[7]) {
		t.Fatal("two passes drew the same first batch")
	}
}
