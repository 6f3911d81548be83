package datasets_test

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dlrun/dlrun/internal/allocs"

	"github.com/dlrun/dlrun/datasets"
	"github.com/dlrun/dlrun/internal/safeio"
)

// fixture returns the path of a fixture.
func fixture(name string) string { return filepath.Join(fixtures, filepath.FromSlash(name)) }

// copyFixtureDir copies the fixture folder name into a new temporary folder.
func copyFixtureDir(t *testing.T, name string) string {
	t.Helper()
	dir := t.TempDir()
	entries, err := os.ReadDir(fixture(name))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(fixture(name), e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// putFixture copies the fixture name to dir/as, and returns that path.
func putFixture(t *testing.T, dir, as, name string) string {
	t.Helper()
	b, err := os.ReadFile(fixture(name))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, as)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// checkOneLineError checks that err is a one-line error naming path and
// saying want.
func checkOneLineError(t *testing.T, err error, path, want string) {
	t.Helper()
	switch {
	case err == nil:
		t.Fatalf("%s: no error, want one saying %q", path, want)
	case strings.Contains(err.Error(), "\n"):
		t.Fatalf("%s: error spans lines: %q", path, err)
	case !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), want):
		t.Fatalf("%s: error %q\nwant one naming the file and saying %q", path, err, want)
	}
}

// The valid IDX fixtures load, plain and gzipped, through Load; the class
// names come from classes.txt; the checksum is over the files as stored.
func TestFixturesIDXValid(t *testing.T) {
	for _, c := range []struct {
		dir, suffix string
		classes     []string
	}{{"idx-valid", "", []string{"zero", "one", "two"}}, {"idx-valid-gz", ".gz", []string{"0", "1", "2"}}} {
		d, err := datasets.Load(fixture(c.dir))
		if err != nil {
			t.Fatal(err)
		}
		if d.Train.Len() != 3 || d.Test.Len() != 1 || !slices.Equal(d.Classes, c.classes) || !slices.Equal(d.Shape, []int{1, 2, 2}) {
			t.Fatalf("%s: train %d, test %d, classes %q, shape %v", c.dir, d.Train.Len(), d.Test.Len(), d.Classes, d.Shape)
		}
		if !slices.Equal(d.Train.X[:4], []float32{0, 0.2, 0.4, 1}) || !slices.Equal(d.Train.Labels, []int{0, 1, 2}) || d.Test.Labels[0] != 1 {
			t.Fatalf("%s: pixels %v, labels %v", c.dir, d.Train.X[:4], d.Train.Labels)
		}
		h := sha256.New()
		for _, n := range []string{"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"} {
			b, _ := os.ReadFile(fixture(c.dir + "/" + n + c.suffix))
			h.Write(b)
		}
		if d.SHA256 != hex.EncodeToString(h.Sum(nil)) {
			t.Errorf("%s: SHA256 is not over the files as stored", c.dir)
		}
	}
}

// The hostile IDX fixtures, read by ReadIDX from the file and as the
// training images of a folder, give one-line errors naming the file, and
// the bombs among them allocate next to nothing.
func TestFixturesIDXHostile(t *testing.T) {
	for _, c := range []struct {
		name, want string
		bomb       bool
	}{
		{"idx-truncated-data", "truncated: header [2 3] claims 6 bytes of data, file holds 4", false},
		{"idx-trailing-bytes", "more data than header [2 3] claims (6 bytes)", false},
		{"idx-truncated-header", "truncated IDX header", false},
		{"idx-bad-magic", "not an IDX file", false},
		{"idx-float-type", "IDX element type 0x0d is not supported", false},
		{"idx-header-claims-1tib", "IDX header [1048576 1048576] claims more than the 1073741824 bytes of data a file may hold (MaxSplitBytes)", true},
		{"idx-gzip-bomb-header-1gib.gz", "IDX header [16384 256 256] claims 1073741824 bytes of data, more than a gzip file of 53 bytes can hold", true},
		{"idx-gzip-bomb-trailing-32mib.gz", "more data than header [1 2 2] claims (4 bytes)", true},
		{"idx-gzip-truncated.gz", "truncated: the gzip stream ends early, before its checksum, after the 6 bytes that header [1 2 3] claims", false},
		{"idx-gzip-bad-checksum.gz", "corrupt gzip stream (gzip: invalid checksum)", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := fixture(c.name)
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			n := allocs.Bytes(func() { _, err = datasets.ReadIDX(f, path) })
			checkOneLineError(t, err, path, c.want)
			if c.bomb && n > 1<<20 {
				t.Errorf("ReadIDX allocated %d bytes for %s", n, c.name)
			}
			if errors.Is(err, safeio.ErrTooLarge) != strings.Contains(c.want, "MaxSplitBytes") {
				t.Errorf("error %v: wraps safeio.ErrTooLarge only if over a limit", err)
			}
			base, as := "idx-valid", "train-images-idx3-ubyte"
			if strings.HasSuffix(c.name, ".gz") {
				base, as = "idx-valid-gz", as+".gz"
			}
			dir := copyFixtureDir(t, base)
			path = putFixture(t, dir, as, c.name)
			if base == "idx-valid-gz" {
				// The gzipped fixtures' faults lie in their data, which is
				// read once the four headers agree: give the others one
				// image of the fixture's size and one label each.
				if rows, cols, ok := gzIDXImageSize(t, path); ok {
					os.WriteFile(filepath.Join(dir, "train-labels-idx1-ubyte.gz"), gz(idxBytes([]int{1}, []byte{0})), 0o644)
					os.WriteFile(filepath.Join(dir, "t10k-images-idx3-ubyte.gz"), gz(idxBytes([]int{1, rows, cols}, make([]byte, rows*cols))), 0o644)
					os.WriteFile(filepath.Join(dir, "t10k-labels-idx1-ubyte.gz"), gz(idxBytes([]int{1}, []byte{0})), 0o644)
				}
			}
			n = allocs.Bytes(func() { _, err = datasets.Load(dir) })
			checkOneLineError(t, err, path, c.want)
			if c.bomb && n > 1<<20 {
				t.Errorf("Load allocated %d bytes for %s", n, c.name)
			}
		})
	}
}

// A gzipped IDX file of 4 MiB of pixels in 4 KB: ReadIDX reserves the
// data once, and a dataset reads it straight into its float32 examples,
// with no copy of the bytes kept alongside.
func TestIDXPeakMemory(t *testing.T) {
	path := fixture("idx-gzip-zeros-4mib.gz")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var x *datasets.IDX
	n := allocs.Bytes(func() { x, err = datasets.ReadIDX(f, path) })
	if err != nil || len(x.Data) != 4<<20 {
		t.Fatalf("ReadIDX: %v", err)
	}
	if n > 4<<20+256<<10 {
		t.Errorf("ReadIDX allocated %d bytes for 4 MiB of data", n)
	}
	dir := copyFixtureDir(t, "idx-valid-gz")
	putFixture(t, dir, "train-images-idx3-ubyte.gz", "idx-gzip-zeros-4mib.gz")
	os.WriteFile(filepath.Join(dir, "train-labels-idx1-ubyte.gz"), gz(idxBytes([]int{64}, make([]byte, 64))), 0o644)
	os.WriteFile(filepath.Join(dir, "t10k-images-idx3-ubyte.gz"), gz(idxBytes([]int{1, 256, 256}, make([]byte, 256*256))), 0o644)
	var d *datasets.Dataset
	n = allocs.Bytes(func() { d, err = datasets.Load(dir) })
	if err != nil {
		t.Fatal(err)
	}
	need := uint64(4 * (len(d.Train.X) + len(d.Test.X)))
	if n > need+need/16+1<<20 {
		t.Errorf("loading %d bytes of float32 examples allocated %d bytes", need, n)
	}
}

// gzIDXImageSize returns the rows and columns that the header of the
// gzipped IDX images file at path declares for one image, when it declares
// one image.
func gzIDXImageSize(t *testing.T, path string) (rows, cols int, ok bool) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	z, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return 0, 0, false
	}
	var h [16]byte
	if _, err := io.ReadFull(z, h[:]); err != nil || h[3] != 3 || binary.BigEndian.Uint32(h[4:]) != 1 {
		return 0, 0, false
	}
	return int(binary.BigEndian.Uint32(h[8:])), int(binary.BigEndian.Uint32(h[12:])), true
}

// The headers of the four files are compared before any data is read: a
// lying set (an images header of [16384 256 256] with 1 GiB of zeros behind
// it, its labels header [10]) is refused at once, in one line naming both
// files, without reading the pixels.
func TestIDXHeadersAreComparedFirst(t *testing.T) {
	dir := copyFixtureDir(t, "idx-valid")
	images := filepath.Join(dir, "train-images-idx3-ubyte")
	f, err := os.Create(images)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(idxBytes([]int{16384, 256, 256}, nil))
	if err := f.Truncate(16 + 1<<30); err != nil { // sparse: no disk taken
		f.Close()
		t.Skip("no sparse files here:", err)
	}
	f.Close()
	labels := filepath.Join(dir, "train-labels-idx1-ubyte")
	os.WriteFile(labels, idxBytes([]int{10}, make([]byte, 10)), 0o644)
	var n uint64
	start := time.Now()
	n = allocs.Bytes(func() { _, err = datasets.Load(dir) })
	checkOneLineError(t, err, images, "has 16384 images but "+labels+" has 10 labels")
	if n > 1<<20 {
		t.Errorf("refusing the set allocated %d bytes", n)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("refusing the set took %v", d)
	}
}

func TestFixturesCIFAR(t *testing.T) {
	d, err := datasets.Load(fixture("cifar-valid"))
	if err != nil {
		t.Fatal(err)
	}
	if d.Train.Len() != 2 || d.Test.Len() != 1 || !slices.Equal(d.Train.Labels, []int{3, 9}) || d.Test.Labels[0] != 7 {
		t.Fatalf("train %v, test %v", d.Train.Labels, d.Test.Labels)
	}
	for _, c := range []struct{ name, want string }{
		{"cifar-truncated.bin", "3000 bytes is not a whole number of 3073-byte CIFAR-10 records"},
		{"cifar-bad-label.bin", "record 0 has label 10 (want 0..9)"},
	} {
		dir := copyFixtureDir(t, "cifar-valid")
		path := putFixture(t, dir, "data_batch_2.bin", c.name)
		_, err := datasets.Load(dir)
		checkOneLineError(t, err, path, c.want)
	}
}

func TestFixturesClasses(t *testing.T) {
	for _, c := range []struct{ name, want string }{
		{"classes-wrong-count.txt", "classes.txt: 2 names, but the labels number 3 classes"},
		{"classes-empty-name.txt", "classes.txt:2: empty class name"},
	} {
		dir := copyFixtureDir(t, "idx-valid")
		path := putFixture(t, dir, "classes.txt", c.name)
		_, err := datasets.Load(dir)
		checkOneLineError(t, err, path, c.want)
	}
}

func TestFixturesText(t *testing.T) {
	plain, err := datasets.LoadTextFile(fixture("text-valid.txt"), 0.1)
	if err != nil {
		t.Fatal(err)
	}
	zipped, err := datasets.LoadTextFile(fixture("text-valid.txt.gz"), 0.1)
	if err != nil {
		t.Fatal(err)
	}
	if len(plain.Train)+len(plain.HeldOut) != len(fixtureText) || !slices.Equal(plain.Vocab, zipped.Vocab) || !slices.Equal(plain.Train, zipped.Train) || plain.SHA256 != zipped.SHA256 {
		t.Fatalf("plain %d+%d characters, vocabulary %q; gzipped differs or is short", len(plain.Train), len(plain.HeldOut), plain.Vocab)
	}
	if sum := sha256.Sum256([]byte(fixtureText)); plain.SHA256 != hex.EncodeToString(sum[:]) {
		t.Error("SHA256 is not over the text")
	}
	for _, c := range []struct{ name, want string }{
		{"text-invalid-utf8.txt", ":2: not UTF-8 text (byte 0xff at offset 18)"},
		{"text-gzip-truncated.gz", "truncated: the gzip stream ends early"},
	} {
		_, err := datasets.LoadTextFile(fixture(c.name), 0.1)
		checkOneLineError(t, err, fixture(c.name), c.want)
	}
}

func TestFixturesRatings(t *testing.T) {
	for _, dir := range []string{"ratings-csv-valid", "ratings-csv-valid-gz", "ml-100k-valid"} {
		r, err := datasets.LoadRatingsDir(fixture(dir))
		if err != nil {
			t.Fatal(err)
		}
		want := 4
		if dir == "ml-100k-valid" {
			want = 3
		}
		if n := len(r.Train) + len(r.Test); n != want || len(r.Titles) == 0 || r.Titles[0] == "" {
			t.Fatalf("%s: %d ratings, titles %q", dir, n, r.Titles)
		}
	}
	for _, c := range []struct{ base, as, name, want string }{
		{"ratings-csv-valid", "ratings.csv", "ratings-nan.csv", `ratings.csv:3: rating "NaN" is not a finite number`},
		{"ratings-csv-valid", "ratings.csv", "ratings-inf.csv", `ratings.csv:3: rating "+Inf" is not a finite number`},
		{"ratings-csv-valid", "ratings.csv", "ratings-overflow-1e999.csv", `ratings.csv:3: rating "1e999" is not a finite number`},
		{"ratings-csv-valid", "ratings.csv", "ratings-hex-float.csv", `ratings.csv:3: rating "0x1p1" is not a decimal number`},
		{"ratings-csv-valid-gz", "ratings.csv.gz", "ratings-gzip-bomb-long-line.csv.gz", "ratings.csv.gz:3: line longer than 65536 bytes"},
		{"ratings-csv-valid-gz", "ratings.csv.gz", "ratings-gzip-truncated.csv.gz", "ratings.csv.gz:6: truncated: the gzip stream ends early"},
		{"ratings-csv-valid", "movies.csv", "movies-listed-twice.csv", "movies.csv:5: movie 10 is listed again (first on line 2)"},
		{"ml-100k-valid", "u.data", "ml-100k-nan-u.data", `u.data:2: rating "nan" is not a finite number`},
		{"ml-100k-valid", "u.item", "ml-100k-wrong-columns-u.item", "u.item:1: 3 columns, want 24"},
	} {
		dir := copyFixtureDir(t, c.base)
		path := putFixture(t, dir, c.as, c.name)
		var err error
		n := allocs.Bytes(func() { _, err = datasets.LoadRatingsDir(dir) })
		checkOneLineError(t, err, filepath.Dir(path)+string(filepath.Separator)+c.want, "")
		// csv.Reader buffers a long line a few times over before the
		// line limit stops it; without the limit, the 32 MiB line would
		// take over 64 MiB.
		if n > 1<<20+10*datasets.MaxLineBytes {
			t.Errorf("%s: allocated %d bytes", c.name, n)
		}
	}
}

func TestFixturesImages(t *testing.T) {
	for _, name := range []string{"image-valid.png", "image-valid.jpg"} {
		gray, err := datasets.ReadImage(fixture(name), []int{1, 8, 8}, false)
		if err != nil {
			t.Fatal(err)
		}
		if gray[0] > 0.05 || gray[7] < 0.25 || gray[7] > 0.35 {
			t.Errorf("%s: gray left %g, right %g (want 0 and 0.299)", name, gray[0], gray[7])
		}
	}
	for _, c := range []struct{ name, want string }{
		{"image-png-60000x60000.png", "PNG image is 60000x60000 pixels, more than the 89478485 an image may have (MaxImagePixels)"},
		{"image-jpeg-60000x60000.jpg", "JPEG image is 60000x60000 pixels, more than the 89478485 an image may have (MaxImagePixels)"},
		{"image-truncated.png", "not a readable PNG image"},
		{"image-not-an-image.png", "not a PNG, JPEG, GIF or WebP image"},
	} {
		var err error
		n := allocs.Bytes(func() { _, err = datasets.ReadImage(fixture(c.name), []int{3, 8, 8}, false) })
		checkOneLineError(t, err, fixture(c.name), c.want)
		if n > 1<<20 {
			t.Errorf("%s: allocated %d bytes", c.name, n)
		}
	}
	if _, err := datasets.ReadImage(fixture("image-valid.png"), []int{1, 100000, 100000}, false); err == nil || !strings.Contains(err.Error(), "MaxImagePixels") {
		t.Errorf("a model input of 10^10 pixels: %v", err)
	}
}

// DecodeImage reads an image from memory as ReadImage reads it from a
// file: the same values, the same refusals, errors naming what the caller
// calls the image.
func TestDecodeImageIsReadImage(t *testing.T) {
	for _, name := range []string{"image-valid.png", "image-valid.jpg"} {
		b, err := os.ReadFile(fixture(name))
		if err != nil {
			t.Fatal(err)
		}
		for _, shape := range [][]int{{1, 8, 8}, {3, 5, 7}} {
			for _, invert := range []bool{false, true} {
				want, err := datasets.ReadImage(fixture(name), shape, invert)
				if err != nil {
					t.Fatal(err)
				}
				got, err := datasets.DecodeImage(b, "body", shape, invert, 0, "")
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(got, want) {
					t.Errorf("%s %v invert %v: DecodeImage differs from ReadImage", name, shape, invert)
				}
			}
		}
	}
	for _, c := range []struct {
		name  string
		shape []int
		want  string
		large bool
	}{
		{"image-png-60000x60000.png", []int{1, 8, 8}, "body: PNG image is 60000x60000 pixels, more than the 89478485 an image may have (MaxImagePixels)", true},
		{"image-truncated.png", []int{1, 8, 8}, "body: not a readable PNG image", false},
		{"image-not-an-image.png", []int{1, 8, 8}, "body: not a PNG, JPEG, GIF or WebP image", false},
		{"image-valid.png", []int{2, 8, 8}, "body: a model input of shape [2 8 8] is not an image", false},
		{"image-valid.png", []int{1, 100000, 100000}, "MaxImagePixels", false},
	} {
		b, err := os.ReadFile(fixture(c.name))
		if err != nil {
			t.Fatal(err)
		}
		_, err = datasets.DecodeImage(b, "body", c.shape, false, 0, "")
		checkOneLineError(t, err, "body", c.want)
		if large := errors.Is(err, safeio.ErrTooLarge); large != c.large {
			t.Errorf("%s: error %v wraps safeio.ErrTooLarge: %v, want %v", c.name, err, large, c.large)
		}
	}
}
