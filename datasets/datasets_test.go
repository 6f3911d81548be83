package datasets_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/datasets"
)

// idxBytes encodes an IDX file of unsigned bytes.
func idxBytes(dims []int, data []byte) []byte {
	var b bytes.Buffer
	b.Write([]byte{0, 0, 8, byte(len(dims))})
	for _, d := range dims {
		binary.Write(&b, binary.BigEndian, uint32(d))
	}
	b.Write(data)
	return b.Bytes()
}

func gz(b []byte) []byte {
	var out bytes.Buffer
	w := gzip.NewWriter(&out)
	w.Write(b)
	w.Close()
	return out.Bytes()
}

func TestReadIDX(t *testing.T) {
	good := idxBytes([]int{2, 3}, []byte{1, 2, 3, 4, 5, 6})
	huge := idxBytes([]int{1 << 20, 1 << 20}, []byte{1, 2})
	cases := []struct {
		name    string
		file    []byte
		wantErr string
	}{
		{"plain", good, ""},
		{"gzipped", gz(good), ""},
		{"truncated data", good[:len(good)-2], "truncated"},
		{"truncated gzip", gz(good)[:20], "f.idx"},
		{"truncated header", good[:6], "truncated IDX header"},
		{"trailing bytes", append(append([]byte{}, good...), 9), "more data than header"},
		{"not idx", []byte("hello world, not an idx file"), "not an IDX file"},
		{"float idx", append([]byte{0, 0, 0x0d, 1, 0, 0, 0, 1}, 0, 0, 0, 0), "not supported"},
		{"header claims terabytes", huge, "claims more than"},
		{"header claims 2^64 bytes", idxBytes([]int{1 << 16, 1 << 16, 1 << 16, 1 << 16}, nil), "claims more than"},
		{"empty", nil, "truncated IDX header"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			idx, err := datasets.ReadIDX(bytes.NewReader(c.file), "f.idx")
			if c.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if len(idx.Dims) != 2 || idx.Dims[0] != 2 || idx.Dims[1] != 3 || !bytes.Equal(idx.Data, []byte{1, 2, 3, 4, 5, 6}) {
					t.Fatalf("read %+v", idx)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.wantErr) || !strings.Contains(err.Error(), "f.idx") {
				t.Fatalf("error %v, want one naming f.idx and saying %q", err, c.wantErr)
			}
		})
	}
}

// writeIDXDir writes a tiny 4-file IDX dataset (gzipped or not) into dir.
func writeIDXDir(t *testing.T, dir string, zip bool, trainImages []byte) {
	t.Helper()
	files := map[string][]byte{
		"train-images-idx3-ubyte": trainImages,
		"train-labels-idx1-ubyte": idxBytes([]int{3}, []byte{0, 1, 2}),
		"t10k-images-idx3-ubyte":  idxBytes([]int{1, 2, 2}, []byte{255, 0, 0, 255}),
		"t10k-labels-idx1-ubyte":  idxBytes([]int{1}, []byte{1}),
	}
	for name, b := range files {
		if zip {
			name += ".gz"
			b = gz(b)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestLoadIDXDir(t *testing.T) {
	images := idxBytes([]int{3, 2, 2}, []byte{0, 51, 102, 255, 1, 2, 3, 4, 5, 6, 7, 8})
	for _, zip := range []bool{false, true} {
		dir := t.TempDir()
		writeIDXDir(t, dir, zip, images)
		d, err := datasets.Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		if d.Train.Len() != 3 || d.Test.Len() != 1 || len(d.Classes) != 3 {
			t.Fatalf("train %d test %d classes %v", d.Train.Len(), d.Test.Len(), d.Classes)
		}
		x := make([]float32, 4)
		if l := d.Train.Example(0, x); l != 0 || x[1] != 0.2 || x[3] != 1 {
			t.Fatalf("example 0: label %d, pixels %v (want scaled to [0,1])", l, x)
		}
		if len(d.SHA256) != 64 {
			t.Fatalf("sha %q", d.SHA256)
		}
	}
	// Mismatched image and label counts.
	dir := t.TempDir()
	writeIDXDir(t, dir, false, idxBytes([]int{2, 2, 2}, make([]byte, 8)))
	if _, err := datasets.Load(dir); err == nil || !strings.Contains(err.Error(), "2 images but") {
		t.Fatalf("count mismatch: error %v", err)
	}
	// A folder with no IDX files, and a path that does not exist.
	if _, err := datasets.Load(t.TempDir()); err == nil || !strings.Contains(err.Error(), "neither format found") {
		t.Fatalf("empty folder: error %v", err)
	}
	if _, err := datasets.Load(filepath.Join(t.TempDir(), "missing")); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("missing folder: error %v", err)
	}
}

func TestBundledFashionMNIST(t *testing.T) {
	d, err := datasets.FashionMNIST()
	if err != nil {
		t.Fatal(err)
	}
	if d.Train.Len() != 6000 || d.Test.Len() != 1000 {
		t.Fatalf("train %d, test %d", d.Train.Len(), d.Test.Len())
	}
	if got := d.Train.Shape(); len(got) != 3 || got[0] != 1 || got[1] != 28 || got[2] != 28 {
		t.Fatalf("shape %v", got)
	}
	for _, s := range []struct {
		split *datasets.Split
		per   int
	}{{d.Train, 600}, {d.Test, 100}} {
		counts := make([]int, 10)
		for _, l := range s.split.Labels {
			counts[l]++
		}
		for c, n := range counts {
			if n != s.per {
				t.Errorf("class %d (%s): %d examples, want %d", c, d.Classes[c], n, s.per)
			}
		}
	}
	lo, hi := float32(1), float32(0)
	for _, v := range d.Train.X {
		lo, hi = min(lo, v), max(hi, v)
	}
	if lo != 0 || hi != 1 {
		t.Errorf("pixel range [%g, %g], want [0, 1]", lo, hi)
	}
	if d.Classes[9] != "Ankle boot" {
		t.Errorf("class 9 is %q", d.Classes[9])
	}
	// The checksum is over the four files as stored, in order.
	h := sha256.New()
	for _, n := range []string{"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"} {
		b, err := datasets.BundledFile("fashion-mnist/" + n + ".gz")
		if err != nil {
			t.Fatal(err)
		}
		h.Write(b)
	}
	if d.SHA256 != hex.EncodeToString(h.Sum(nil)) {
		t.Errorf("SHA256 %s is not over the bundled files", d.SHA256)
	}
	if !strings.Contains(datasets.FashionMNISTLicence(), "Zalando") {
		t.Error("licence text missing")
	}
}

// The embedded files are byte for byte those listed in the bundled SHA256SUMS.
func TestBundledChecksums(t *testing.T) {
	sums, err := datasets.BundledFile("fashion-mnist/SHA256SUMS")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	sc := bufio.NewScanner(bytes.NewReader(sums))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		b, err := datasets.BundledFile("fashion-mnist/" + f[1])
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(b)
		if hex.EncodeToString(sum[:]) != f[0] {
			t.Errorf("%s: SHA-256 differs from SHA256SUMS", f[1])
		}
		n++
	}
	if n != 5 {
		t.Fatalf("%d files checked, want 5", n)
	}
}

func TestXOR(t *testing.T) {
	d := datasets.XOR()
	x := make([]float32, 2)
	for i, want := range []int{0, 1, 1, 0} {
		l := d.Train.Example(i, x)
		if l != want || (x[0] != 0) != (x[1] != 0) != (l == 1) {
			t.Errorf("point %d: %v -> %d", i, x, l)
		}
	}
}

func TestSubsetKeepsFirstPerClassInOrder(t *testing.T) {
	images := &datasets.IDX{Dims: []int{6, 1}, Data: []byte{10, 11, 12, 13, 14, 15}}
	labels := &datasets.IDX{Dims: []int{6}, Data: []byte{1, 0, 1, 1, 0, 2}}
	img, lab, err := datasets.Subset(images, labels, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(lab.Data, []byte{1, 0, 2}) || !bytes.Equal(img.Data, []byte{10, 11, 15}) || img.Dims[0] != 3 || lab.Dims[0] != 3 {
		t.Fatalf("labels %v images %v dims %v", lab.Data, img.Data, img.Dims)
	}
	if _, _, err := datasets.Subset(images, labels, 2); err == nil {
		t.Fatal("class 2 has one example, yet a subset of 2 per class succeeded")
	}
	round, err := datasets.ReadIDX(bytes.NewReader(img.Encode()), "encoded")
	if err != nil || !bytes.Equal(round.Data, img.Data) {
		t.Fatalf("encode round trip: %v", err)
	}
}

func cifarRecords(labels ...byte) []byte {
	var b []byte
	for i, l := range labels {
		rec := make([]byte, 3073)
		rec[0] = l
		for j := 1; j < len(rec); j++ {
			rec[j] = byte(i + j)
		}
		b = append(b, rec...)
	}
	return b
}

func TestLoadCIFAR10Dir(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "cifar-10-batches-bin")
	os.Mkdir(sub, 0o755)
	write := func(name string, b []byte) {
		if err := os.WriteFile(filepath.Join(sub, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("data_batch_1.bin", cifarRecords(3, 9))
	write("data_batch_2.bin", cifarRecords(0))
	write("test_batch.bin", cifarRecords(7))
	d, err := datasets.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if d.Train.Len() != 3 || d.Test.Len() != 1 || d.Classes[3] != "cat" || len(d.Shape) != 3 || d.Shape[0] != 3 {
		t.Fatalf("train %d, test %d, classes %v, shape %v", d.Train.Len(), d.Test.Len(), d.Classes, d.Shape)
	}
	x := make([]float32, 3072)
	if l := d.Train.Example(2, x); l != 0 || x[0] != float32(1)/255 || x[1024] != float32(1025%256)/255 {
		t.Fatalf("example 2: label %d, first pixels %v %v", l, x[0], x[1024])
	}
	// Truncated batch and bad label.
	write("data_batch_2.bin", cifarRecords(0)[:3000])
	if _, err := datasets.Load(dir); err == nil || !strings.Contains(err.Error(), "data_batch_2.bin") {
		t.Fatalf("truncated: %v", err)
	}
	write("data_batch_2.bin", cifarRecords(10))
	if _, err := datasets.Load(dir); err == nil || !strings.Contains(err.Error(), "label 10") {
		t.Fatalf("bad label: %v", err)
	}
}

func TestAsSequence(t *testing.T) {
	x := []float32{
		1, 2, 3, 4, 5, 6, // channel 0: rows [1 2 3], [4 5 6]
		7, 8, 9, 10, 11, 12, // channel 1
	}
	s, err := datasets.NewSplit(x, []int{0}, []int{2, 2, 3}, 1)
	if err != nil {
		t.Fatal(err)
	}
	d, err := datasets.AsSequence(&datasets.Dataset{Name: "t", Shape: []int{2, 2, 3}, Train: s, Test: s})
	if err != nil {
		t.Fatal(err)
	}
	got := make([]float32, 12)
	d.Train.Example(0, got)
	want := []float32{1, 2, 3, 7, 8, 9, 4, 5, 6, 10, 11, 12}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("sequence %v, want %v", got, want)
		}
	}
	if sh := d.Train.Shape(); sh[0] != 2 || sh[1] != 6 {
		t.Fatalf("shape %v", sh)
	}
	if _, err := datasets.AsSequence(datasets.XOR()); err == nil {
		t.Fatal("XOR viewed as sequences")
	}
}

func TestPrideAndPrejudice(t *testing.T) {
	txt, err := datasets.PrideAndPrejudice()
	if err != nil {
		t.Fatal(err)
	}
	if n := len(txt.Train) + len(txt.HeldOut); n != 684768 {
		t.Errorf("%d characters, want 684,768", n)
	}
	if len(txt.Vocab) != 75 {
		t.Errorf("vocabulary of %d, want 75", len(txt.Vocab))
	}
	if len(txt.HeldOut) != 68476 {
		t.Errorf("held out %d", len(txt.HeldOut))
	}
	for i := 1; i < len(txt.Vocab); i++ {
		if txt.Vocab[i-1] >= txt.Vocab[i] {
			t.Fatalf("vocabulary not sorted at %d", i)
		}
	}
	ids, err := datasets.Encode(txt.Vocab, "It is a truth")
	if err != nil || len(ids) != 13 {
		t.Fatalf("encode: %v %v", ids, err)
	}
	if _, err := datasets.Encode(txt.Vocab, "€"); err == nil {
		t.Error("encoded a character outside the vocabulary")
	}
	if !strings.Contains(datasets.AustenLicence(), "Silge") {
		t.Error("licence text missing")
	}
}

func TestReadImage(t *testing.T) {
	dir := t.TempDir()
	img := image.NewRGBA(image.Rect(0, 0, 56, 56))
	for y := 0; y < 56; y++ {
		for x := 0; x < 56; x++ {
			v := uint8(0)
			if x >= 28 {
				v = 255
			}
			img.Set(x, y, color.RGBA{v, 0, 0, 255})
		}
	}
	pngPath := filepath.Join(dir, "half.png")
	f, _ := os.Create(pngPath)
	png.Encode(f, img)
	f.Close()
	jpgPath := filepath.Join(dir, "half.jpg")
	f, _ = os.Create(jpgPath)
	jpeg.Encode(f, img, &jpeg.Options{Quality: 95})
	f.Close()
	for _, p := range []string{pngPath, jpgPath} {
		gray, err := datasets.ReadImage(p, []int{1, 28, 28}, false)
		if err != nil {
			t.Fatal(err)
		}
		if len(gray) != 28*28 || gray[0] > 0.05 || math.Abs(float64(gray[27])-0.299) > 0.05 {
			t.Fatalf("%s: gray left %g, right %g (want 0 and 0.299)", p, gray[0], gray[27])
		}
		rgb, err := datasets.ReadImage(p, []int{3, 8, 8}, true)
		if err != nil {
			t.Fatal(err)
		}
		if rgb[7] > 0.05 || rgb[0] < 0.95 || rgb[64] < 0.95 { // inverted: red channel right 0, left 1; green 1
			t.Fatalf("%s: inverted RGB %v %v %v", p, rgb[0], rgb[7], rgb[64])
		}
	}
	bad := filepath.Join(dir, "bad.png")
	os.WriteFile(bad, []byte("not an image"), 0o644)
	if _, err := datasets.ReadImage(bad, []int{1, 28, 28}, false); err == nil || !strings.Contains(err.Error(), "bad.png") {
		t.Fatalf("bad image: %v", err)
	}
	if _, err := datasets.ReadImage(pngPath, []int{28, 28}, false); err == nil {
		t.Fatal("a sequence shape accepted as an image")
	}
}
