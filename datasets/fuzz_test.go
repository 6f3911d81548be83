package datasets

import (
	"bytes"
	"crypto/sha256"
	"image"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/internal/allocs"
)

// The fuzz targets below run every parser of the package on arbitrary
// bytes, seeded from the fixtures in ../testdata/datasets. Each checks
// that a parse never panics, that an error is one line naming the input,
// and that the parse allocates no more than a stated bound: a small
// constant plus what the input can hold (for gzip, maxGzipRatio times its
// length), so a lying header or a bomb cannot reserve more than a valid
// input of its size would need.

const fixtureDir = "../testdata/datasets"

// readFixtures returns the contents of the fixtures matching the globs.
func readFixtures(tb testing.TB, globs ...string) [][]byte {
	tb.Helper()
	var out [][]byte
	for _, g := range globs {
		paths, err := filepath.Glob(filepath.Join(fixtureDir, g))
		if err != nil || len(paths) == 0 {
			tb.Fatalf("no fixtures match %s", g)
		}
		for _, p := range paths {
			if fi, err := os.Stat(p); err == nil && fi.IsDir() {
				continue
			}
			b, err := os.ReadFile(p)
			if err != nil {
				tb.Fatal(err)
			}
			out = append(out, b)
		}
	}
	return out
}

// checkParse fails t if err is not a one-line error naming name, or if n
// bytes allocated exceed bound.
func checkParse(t *testing.T, err error, name string, n, bound uint64) {
	t.Helper()
	if err != nil && (strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), name)) {
		t.Fatalf("error %q is not one line naming %s", err, name)
	}
	if n > bound {
		t.Fatalf("allocated %d bytes, more than the bound of %d", n, bound)
	}
}

// holds is the most bytes an input of n bytes can hold: maxGzipRatio·n.
func holds(n int) uint64 { return uint64(maxGzipRatio) * uint64(n) }

func FuzzReadIDX(f *testing.F) {
	for _, b := range readFixtures(f, "idx-*", "idx-valid/*-ubyte", "idx-valid-gz/*.gz") {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var x, y *IDX
		var err, err2 error
		// Size known: one allocation of the claimed size, checked first.
		n := allocs.Bytes(func() { x, err = ReadIDX(bytes.NewReader(data), "fuzz.idx") })
		checkParse(t, err, "fuzz.idx", n, 1<<20+holds(len(data)))
		// Size unknown: the data is read as it arrives.
		n = allocs.Bytes(func() { y, err2 = ReadIDX(io.MultiReader(bytes.NewReader(data)), "fuzz.idx") })
		checkParse(t, err2, "fuzz.idx", n, 1<<20+2*holds(len(data)))
		if (err == nil) != (err2 == nil) {
			t.Fatalf("known size: %v; unknown size: %v", err, err2)
		}
		if err != nil {
			return
		}
		total := 1
		for _, d := range x.Dims {
			total *= d
		}
		if len(x.Data) != total || !bytes.Equal(x.Data, y.Data) {
			t.Fatalf("dims %v, %d bytes of data (%d read without the size)", x.Dims, len(x.Data), len(y.Data))
		}
	})
}

func FuzzIDXDataset(f *testing.F) {
	valid := readFixtures(f, "idx-valid/train-*")
	f.Add(valid[0], valid[1])
	gzipped := readFixtures(f, "idx-valid-gz/train-*")
	f.Add(gzipped[0], gzipped[1])
	for _, b := range readFixtures(f, "idx-gzip-*") {
		f.Add(b, valid[1])
	}
	test := readFixtures(f, "idx-valid/t10k-*") // images, labels
	f.Fuzz(func(t *testing.T, images, labels []byte) {
		files := [4][]byte{images, labels, test[0], test[1]}
		var d *Dataset
		var err error
		n := allocs.Bytes(func() {
			d, err = idxDataset("fuzz", func(i int) (source, func(), error) {
				return bytesSource("fuzz-"+idxNames[i], files[i]), func() {}, nil
			})
		})
		// Pixels take 4 bytes each as float32, labels 8 as int.
		checkParse(t, err, "fuzz", n, 1<<20+4*holds(len(images))+8*holds(len(labels)))
		if err == nil && (d.Train.Len() != len(d.Train.Labels) || len(d.Train.X) != d.Train.Len()*d.Shape[1]*d.Shape[2]) {
			t.Fatalf("train: %d labels, %d values of shape %v", len(d.Train.Labels), len(d.Train.X), d.Shape)
		}
	})
}

func FuzzCIFAR(f *testing.F) {
	for _, b := range readFixtures(f, "cifar-*.bin", "cifar-valid/*") {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var s *Split
		var err error
		n := allocs.Bytes(func() { s, err = readCIFARSplit([]source{bytesSource("fuzz.bin", data)}, sha256.New()) })
		// 4 bytes a pixel as float32 and 8 a label as int.
		checkParse(t, err, "fuzz.bin", n, 64<<10+5*uint64(len(data)))
		if err == nil && s.Len()*cifarRecord != len(data) {
			t.Fatalf("%d records from %d bytes", s.Len(), len(data))
		}
	})
}

func FuzzText(f *testing.F) {
	for _, b := range readFixtures(f, "text-*") {
		f.Add(b)
	}
	const limit = 1 << 20
	f.Fuzz(func(t *testing.T, data []byte) {
		var txt *Text
		var err error
		n := allocs.Bytes(func() { txt, err = readText(bytesSource("fuzz.txt", data), 0.1, limit) })
		// The text, read with the growth of a strings.Builder, then an
		// 8-byte id a character, the vocabulary and its map.
		text := min(limit, holds(len(data)))
		checkParse(t, err, "fuzz.txt", n, 1<<20+3*text+8*text+200*min(text, MaxTextVocab))
		if err == nil && len(txt.Train)+len(txt.HeldOut) < 2 {
			t.Fatalf("a text of %d characters", len(txt.Train)+len(txt.HeldOut))
		}
	})
}

// fuzzRatings fuzzes the rating layout l with its seed folders.
func fuzzRatings(f *testing.F, l ratingsLayout, seeds [][2]string) {
	for _, s := range seeds {
		r := readFixtures(f, s[0])
		m := readFixtures(f, s[1])
		f.Add(r[0], m[0])
	}
	const limit = 1 << 20
	f.Fuzz(func(t *testing.T, ratings, movies []byte) {
		var r *Ratings
		var err error
		n := allocs.Bytes(func() {
			r, err = readRatings("fuzz", l, bytesSource("fuzz-"+l.ratings, ratings), bytesSource("fuzz-"+l.movies, movies), limit)
		})
		// At most limit bytes a file; csv.Reader buffers a line (at most
		// MaxLineBytes) a few times over; a rating takes 32 bytes and a
		// line at least 8, with growth; maps of ids.
		checkParse(t, err, "fuzz-", n, 64<<20)
		if err == nil && len(r.Train)+len(r.Test) == 0 {
			t.Fatal("no ratings, no error")
		}
	})
}

func FuzzRatingsCSV(f *testing.F) {
	fuzzRatings(f, movieLensCSV, [][2]string{
		{"ratings-csv-valid/ratings.csv", "ratings-csv-valid/movies.csv"},
		{"ratings-csv-valid-gz/ratings.csv.gz", "ratings-csv-valid-gz/movies.csv.gz"},
		{"ratings-nan.csv", "ratings-csv-valid/movies.csv"},
		{"ratings-inf.csv", "ratings-csv-valid/movies.csv"},
		{"ratings-hex-float.csv", "ratings-csv-valid/movies.csv"},
		{"ratings-overflow-1e999.csv", "ratings-csv-valid/movies.csv"},
		{"ratings-gzip-truncated.csv.gz", "ratings-csv-valid/movies.csv"},
		{"ratings-gzip-bomb-long-line.csv.gz", "ratings-csv-valid/movies.csv"},
		{"ratings-csv-valid/ratings.csv", "movies-listed-twice.csv"},
	})
}

func FuzzRatings100K(f *testing.F) {
	fuzzRatings(f, movieLens100K, [][2]string{
		{"ml-100k-valid/u.data", "ml-100k-valid/u.item"},
		{"ml-100k-nan-u.data", "ml-100k-valid/u.item"},
		{"ml-100k-valid/u.data", "ml-100k-wrong-columns-u.item"},
	})
}

func FuzzImage(f *testing.F) {
	for _, b := range readFixtures(f, "image-*") {
		f.Add(b)
	}
	// A smaller limit than MaxImagePixels keeps each run fast; the bound
	// is what decoding an image at this limit may take (8 bytes a pixel
	// for 16-bit PNG; 12 for a progressive JPEG's coefficients), plus a
	// constant.
	const maxPixels = 1 << 18
	f.Fuzz(func(t *testing.T, data []byte) {
		var out []float32
		var err error
		n := allocs.Bytes(func() {
			out, err = convertImage(data, "fuzz.img", []int{3, 8, 8}, true, maxPixels, MaxImageDecodedBytes, "MaxImageDecodedBytes")
		})
		checkParse(t, err, "fuzz.img", n, 4<<20+24*maxPixels)
		if err == nil && len(out) != 3*8*8 {
			t.Fatalf("%d values", len(out))
		}
		for _, v := range out {
			if !(v >= 0 && v <= 1) {
				t.Fatalf("value %g outside [0, 1]", v)
			}
		}
	})
}

func FuzzClassNames(f *testing.F) {
	for _, b := range readFixtures(f, "classes-*", "idx-valid/classes.txt") {
		f.Add(b, uint8(3))
	}
	f.Fuzz(func(t *testing.T, data []byte, classes uint8) {
		var names []string
		var err error
		n := allocs.Bytes(func() { names, err = parseClassNames("fuzz-classes.txt", data, int(classes)) })
		checkParse(t, err, "fuzz-classes.txt", n, 64<<10+8*uint64(len(data)))
		if err == nil && len(names) != int(classes) {
			t.Fatalf("%d names for %d classes", len(names), classes)
		}
	})
}

// FuzzImageFile runs the image folders' decoder (readImageHeader,
// decodeImageFile, imageInput) on arbitrary bytes, into one channel and
// three, at the image's own size and resized.
func FuzzImageFile(f *testing.F) {
	for _, b := range readFixtures(f, "image-*") {
		f.Add(b)
	}
	// As FuzzImage: a lower pixel limit keeps each run fast, and the bound
	// is what decoding an image at this limit may take.
	const maxPixels = 1 << 18
	f.Fuzz(func(t *testing.T, data []byte) {
		var img image.Image
		var hdr imageHeader
		var err error
		n := allocs.Bytes(func() {
			img, hdr, err = decodeImageFile(data, "fuzz.img", maxPixels, MaxImageDecodedBytes, "MaxImageDecodedBytes")
		})
		checkParse(t, err, "fuzz.img", n, 4<<20+24*maxPixels)
		if err != nil {
			return
		}
		if b := img.Bounds(); b.Dx() > hdr.width || b.Dy() > hdr.height {
			t.Fatalf("decoded %v from a header of %dx%d", b, hdr.width, hdr.height)
		}
		for _, shape := range [][3]int{{1, hdr.height, hdr.width}, {3, 5, 7}} {
			if shape[1]*shape[2] > 1<<16 {
				continue
			}
			out := make([]float32, shape[0]*shape[1]*shape[2])
			imageInput(img, shape[0], shape[1], shape[2], out, nil)
			for _, v := range out {
				if !(v >= 0 && v <= 1) {
					t.Fatalf("%v: value %g outside [0, 1]", shape, v)
				}
			}
		}
	})
}

// FuzzTable reads arbitrary bytes as a CSV table whose target is the
// column "y", held out at random by the rows' text: three passes, the
// preprocessing built, the rows encoded.
func FuzzTable(f *testing.F) {
	for _, b := range readFixtures(f, "table-*") {
		f.Add(b)
	}
	const limit = 1 << 20
	f.Fuzz(func(t *testing.T, data []byte) {
		open := func() (source, func(), error) { return bytesSource("fuzz.csv", data), func() {}, nil }
		var tab *Table
		var err error
		n := allocs.Bytes(func() { tab, err = readTable("fuzz.csv", open, nil, TableOptions{Target: "y", Fill: FillMean}, limit) })
		// csv.Reader's buffers for each record of each of three passes,
		// the categories, and the inputs: up to MaxOneHot values of 4
		// bytes for a field of one byte.
		text := min(limit, holds(len(data)))
		checkParse(t, err, "fuzz.csv", n, 4<<20+600*text)
		if err != nil {
			return
		}
		w := tab.Preprocessing.Width()
		for _, s := range []*TableSplit{tab.Train, tab.Test} {
			if len(s.X) != s.Len()*w || (len(s.Labels) != s.Len() && len(s.Targets) != s.Len()) {
				t.Fatalf("%d values, %d labels, %d targets for %d rows of width %d", len(s.X), len(s.Labels), len(s.Targets), s.Len(), w)
			}
			for _, v := range s.X {
				if v-v != 0 {
					t.Fatalf("input %g", v)
				}
			}
		}
		if _, err := tab.Preprocessing.WriteJSON(); err != nil {
			t.Fatalf("the preprocessing of a table fails its own check: %v", err)
		}
	})
}

// FuzzPreprocessing reads arbitrary bytes as a saved preprocessing and
// encodes a row with what it accepts.
func FuzzPreprocessing(f *testing.F) {
	for _, b := range readFixtures(f, "preprocessing-*") {
		f.Add(b, "1.5")
	}
	f.Fuzz(func(t *testing.T, data []byte, value string) {
		var p *Preprocessing
		var err error
		n := allocs.Bytes(func() { p, err = ReadPreprocessing(data, "fuzz.json") })
		checkParse(t, err, "fuzz.json", n, 1<<20+64*uint64(len(data)))
		if err != nil {
			return
		}
		header := append(p.columnNames(), p.Target)
		enc, err := p.Encoder(header)
		if err != nil {
			t.Fatalf("the preprocessing's own columns: %v", err)
		}
		row := make([]string, len(header))
		for i := range row {
			row[i] = value
		}
		x := make([]float32, p.Width())
		if err := enc.Encode(row, x); err != nil && strings.Contains(err.Error(), "\n") {
			t.Fatalf("error spans lines: %q", err)
		}
	})
}
