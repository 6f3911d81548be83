package datasets_test

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/datasets"
	"github.com/dlrun/dlrun/internal/allocs"
	"github.com/dlrun/dlrun/internal/safeio"
)

// grayImage is a w×h grayscale image whose pixel (x, y) is (seed + 7x +
// 13y) mod 256.
func grayImage(w, h, seed int) *image.Gray {
	img := image.NewGray(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.Pix[y*img.Stride+x] = uint8(seed + 7*x + 13*y)
		}
	}
	return img
}

// writeImage writes img to path as PNG (or JPEG, by the extension),
// making its folder.
func writeImage(t testing.TB, path string, img image.Image) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	var err error
	if strings.HasSuffix(path, ".jpg") {
		err = jpeg.Encode(&b, img, &jpeg.Options{Quality: 95})
	} else {
		err = png.Encode(&b, img)
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// putFile writes b to dir/name, making its folder.
func putFile(t testing.TB, dir, name string, b []byte) string {
	t.Helper()
	path := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// grayFolder writes n 6×5 gray PNGs to each of the classes' folders
// under dir, image i of class c made by grayImage with seed
// classSeed(c)+i.
func grayFolder(t testing.TB, dir string, n int, classes ...string) {
	t.Helper()
	for _, class := range classes {
		for i := range n {
			writeImage(t, filepath.Join(dir, class, fmt.Sprintf("%03d.png", i)), grayImage(6, 5, classSeed(class)+i))
		}
	}
}

// classSeed is the seed of a class's images in grayFolder.
func classSeed(class string) int { return 40 * int(class[0]) }

func readAll(t *testing.T, s *datasets.ImageFiles) ([][]float32, []int) {
	t.Helper()
	var xs [][]float32
	var labels []int
	for i := range s.Len() {
		x := make([]float32, 1)
		for _, d := range s.Shape() {
			x = make([]float32, len(x)*d)
		}
		l, err := s.Read(i, x, nil)
		if err != nil {
			t.Fatal(err)
		}
		xs, labels = append(xs, x), append(labels, l)
	}
	return xs, labels
}

func TestImageFolderClassesAndHeldOut(t *testing.T) {
	dir := t.TempDir()
	grayFolder(t, dir, 10, "dog", "cat", "bird")
	putFile(t, dir, "cat/notes.txt", []byte("not an image, ignored"))
	putFile(t, dir, "cat/._001.png", []byte("a macOS resource file, ignored"))
	putFile(t, dir, "README.md", []byte("ignored"))
	f, err := datasets.OpenImageFolder(dir, datasets.ImageFolderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(f.Classes, []string{"bird", "cat", "dog"}) || !slices.Equal(f.Shape, []int{1, 5, 6}) {
		t.Fatalf("classes %v, shape %v", f.Classes, f.Shape)
	}
	if f.Train.Len() != 24 || f.Test.Len() != 6 || len(f.Skipped) != 0 {
		t.Fatalf("%d training and %d test images, %d skipped; want 24, 6 (2 of each 10), 0", f.Train.Len(), f.Test.Len(), len(f.Skipped))
	}
	xs, labels := readAll(t, f.Test)
	perClass := map[int]int{}
	for i, x := range xs {
		perClass[labels[i]]++
		// The file's pixels, exactly as an IDX byte would give them.
		var seed int
		fmt.Sscanf(filepath.Base(f.Test.Path(i)), "%03d.png", &seed)
		want := grayImage(6, 5, classSeed(f.Classes[labels[i]])+seed)
		for j, v := range x {
			if v != float32(want.Pix[j])/255 {
				t.Fatalf("%s: value %d is %g, want %d/255", f.Test.Path(i), j, v, want.Pix[j])
			}
		}
		if f.Test.Label(i) != labels[i] || !strings.HasPrefix(f.Test.Path(i), filepath.Join(dir, f.Classes[labels[i]])) {
			t.Fatalf("image %d: label %d, path %s", i, labels[i], f.Test.Path(i))
		}
	}
	if perClass[0] != 2 || perClass[1] != 2 || perClass[2] != 2 {
		t.Fatalf("held out per class: %v", perClass)
	}

	// The same files written in another order split alike, and hash alike.
	dir2 := t.TempDir()
	grayFolder(t, dir2, 10, "bird", "dog", "cat")
	g, err := datasets.OpenImageFolder(dir2, datasets.ImageFolderOptions{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	rel := func(s *datasets.ImageFiles, root string) []string {
		var out []string
		for i := range s.Len() {
			r, _ := filepath.Rel(root, s.Path(i))
			out = append(out, r)
		}
		return out
	}
	if !slices.Equal(rel(f.Test, dir), rel(g.Test, dir2)) {
		t.Fatalf("held out %v, then %v", rel(f.Test, dir), rel(g.Test, dir2))
	}
	if f.SHA256 != g.SHA256 {
		t.Fatal("the same files hash differently")
	}
	// One more image moves at most that image into the test split.
	writeImage(t, filepath.Join(dir2, "cat", "zzz.png"), grayImage(6, 5, 99))
	h, err := datasets.OpenImageFolder(dir2, datasets.ImageFolderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if h.SHA256 == g.SHA256 {
		t.Fatal("an added image does not change the hash")
	}
	moved := 0
	before := rel(g.Test, dir2)
	for _, p := range rel(h.Test, dir2) {
		if !slices.Contains(before, p) {
			moved++
		}
	}
	if moved > 1 || h.Test.Len() < g.Test.Len() {
		t.Fatalf("adding one image changed the test split from %v to %v", before, rel(h.Test, dir2))
	}
}

func TestImageFolderTrainTest(t *testing.T) {
	dir := t.TempDir()
	grayFolder(t, filepath.Join(dir, "train"), 3, "a", "b", "c")
	grayFolder(t, filepath.Join(dir, "val"), 2, "b", "c") // a class may be missing from the test folder
	f, err := datasets.OpenImageFolder(dir, datasets.ImageFolderOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if f.Train.Len() != 9 || f.Test.Len() != 4 || !slices.Equal(f.Classes, []string{"a", "b", "c"}) {
		t.Fatalf("%d + %d images, classes %v", f.Train.Len(), f.Test.Len(), f.Classes)
	}
	if _, labels := readAll(t, f.Test); !slices.Equal(labels, []int{1, 1, 2, 2}) {
		t.Fatalf("test labels %v", labels)
	}
	grayFolder(t, filepath.Join(dir, "test"), 1, "d")
	_, err = datasets.OpenImageFolder(dir, datasets.ImageFolderOptions{})
	checkOneLineError(t, err, filepath.Join(dir, "test", "d"), `a class the training folder does not have (its classes: "a", "b", "c")`)
}

func TestImageFolderFormatsSizesChannels(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"image-valid.png", "image-valid.jpg", "image-valid.gif", "image-valid.webp"} {
		b, err := os.ReadFile(fixture(name))
		if err != nil {
			t.Fatal(err)
		}
		putFile(t, dir, "red/"+name, b)
	}
	grayFolder(t, dir, 2, "gray") // 6×5
	_, err := datasets.OpenImageFolder(dir, datasets.ImageFolderOptions{})
	checkOneLineError(t, err, "pixels, but", "images of different sizes need a size to be resized to")
	f, err := datasets.OpenImageFolder(dir, datasets.ImageFolderOptions{Height: 4, Width: 4, HeldOut: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(f.Shape, []int{3, 4, 4}) {
		t.Fatalf("shape %v, want [3 4 4]: colour images make three channels", f.Shape)
	}
	all := append(readAllPaths(t, f.Train), readAllPaths(t, f.Test)...)
	for _, r := range all {
		if !strings.Contains(r.path, "red") {
			continue
		}
		// Black on the left, red on the right, in every format.
		x := r.x
		if x[0] > 0.05 || x[3] < 0.9 || x[16+3] > 0.1 || x[32+3] > 0.1 {
			t.Errorf("%s: left %g, right red %g green %g blue %g", r.path, x[0], x[3], x[16+3], x[32+3])
		}
	}
	g, err := datasets.OpenImageFolder(dir, datasets.ImageFolderOptions{Height: 4, Width: 4, Channels: 1})
	if err != nil || !slices.Equal(g.Shape, []int{1, 4, 4}) {
		t.Fatalf("one channel: %v %v", g, err)
	}
}

type pathX struct {
	path string
	x    []float32
}

func readAllPaths(t *testing.T, s *datasets.ImageFiles) []pathX {
	xs, _ := readAll(t, s)
	var out []pathX
	for i, x := range xs {
		out = append(out, pathX{s.Path(i), x})
	}
	return out
}

// Each broken folder is a one-line error naming the folder or the file.
func TestImageFolderHostile(t *testing.T) {
	fix := func(name string) []byte {
		b, err := os.ReadFile(fixture(name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, c := range []struct {
		name  string
		setup func(dir string)
		at    string // the path the error names, under dir
		want  string
		large bool
	}{
		{"no class folders", func(dir string) { putFile(t, dir, "notes.txt", nil) }, "", "no class folders: want one folder of images per class (IDX files and CIFAR-10 batches: neither format found either)", false},
		{"loose images", func(dir string) { putFile(t, dir, "a.png", fix("image-valid.png")) }, "", "holds images (a.png) but no class folders", false},
		{"one class", func(dir string) { grayFolder(t, dir, 2, "only") }, "", "one class folder (only): a classifier needs at least two", false},
		{"empty class", func(dir string) {
			grayFolder(t, dir, 2, "a")
			os.MkdirAll(filepath.Join(dir, "b", "sub"), 0o755)
			putFile(t, dir, "b/x.txt", nil)
		}, "b", "an empty class: no PNG, JPEG, GIF or WebP files", false},
		{"not an image", func(dir string) {
			grayFolder(t, dir, 2, "a", "b")
			putFile(t, dir, "b/text.png", []byte("plain text\n"))
		}, "b/text.png", "not a PNG, JPEG, GIF or WebP image (unknown first bytes", false},
		{"truncated header", func(dir string) {
			grayFolder(t, dir, 2, "a", "b")
			putFile(t, dir, "a/cut.png", fix("image-valid.png")[:20])
		}, "a/cut.png", "not a readable PNG image", false},
		{"PNG bomb", func(dir string) {
			grayFolder(t, dir, 2, "a", "b")
			putFile(t, dir, "a/bomb.png", fix("image-png-60000x60000.png"))
		}, "a/bomb.png", "PNG image is 60000x60000 pixels, more than the 89478485 an image may have (MaxImagePixels)", true},
		{"JPEG bomb", func(dir string) {
			grayFolder(t, dir, 2, "a", "b")
			putFile(t, dir, "a/bomb.jpg", fix("image-jpeg-60000x60000.jpg"))
		}, "a/bomb.jpg", "JPEG image is 60000x60000 pixels", true},
		{"GIF bomb", func(dir string) {
			grayFolder(t, dir, 2, "a", "b")
			putFile(t, dir, "a/bomb.gif", fix("image-gif-65535x65535.gif"))
		}, "a/bomb.gif", "GIF image is 65535x65535 pixels", true},
		{"WebP bomb", func(dir string) {
			grayFolder(t, dir, 2, "a", "b")
			putFile(t, dir, "a/bomb.webp", fix("image-webp-16384x16384.webp"))
		}, "a/bomb.webp", "WebP image is 16384x16384 pixels", true},
		{"too few to hold out", func(dir string) { grayFolder(t, dir, 1, "a", "b") }, "", "2 images are too few to hold out a 0.2 share of each class", false},
		{"a folder named .png", func(dir string) {
			grayFolder(t, dir, 5, "a", "b")
			os.MkdirAll(filepath.Join(dir, "a", "dir.png"), 0o755)
			putFile(t, dir, "a/dir.png/x.txt", nil)
		}, "", "", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			c.setup(dir)
			var err error
			n := allocs.Bytes(func() { _, err = datasets.OpenImageFolder(dir, datasets.ImageFolderOptions{}) })
			if c.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			checkOneLineError(t, err, filepath.Join(dir, filepath.FromSlash(c.at)), c.want)
			if large := errors.Is(err, safeio.ErrTooLarge); large != c.large {
				t.Errorf("wraps safeio.ErrTooLarge: %v, want %v", large, c.large)
			}
			if n > 1<<20 {
				t.Errorf("allocated %d bytes", n)
			}
		})
	}
}

func TestImageFolderOptionsChecked(t *testing.T) {
	dir := t.TempDir()
	grayFolder(t, dir, 5, "a", "b")
	for _, c := range []struct {
		opt  datasets.ImageFolderOptions
		want string
	}{
		{datasets.ImageFolderOptions{Height: 4}, "image size 4x0: give both a height and a width"},
		{datasets.ImageFolderOptions{Height: 100000, Width: 100000}, "more than the 89478485 pixels"},
		{datasets.ImageFolderOptions{Channels: 2}, "channels 2: want 1 (grayscale) or 3 (RGB)"},
		{datasets.ImageFolderOptions{HeldOut: 1}, "held-out share 1: want a number from 0 to 0.9"},
		{datasets.ImageFolderOptions{Augment: datasets.Augmentation{CropPadding: -1}}, "crop padding -1"},
	} {
		_, err := datasets.OpenImageFolder(dir, c.opt)
		checkOneLineError(t, err, dir, c.want)
	}
	_, err := datasets.OpenImageFolder(filepath.Join(dir, "a", "000.png"), datasets.ImageFolderOptions{})
	checkOneLineError(t, err, "000.png", "not a folder")
}

// With SkipBad, every unreadable image is skipped and listed, and a file
// whose pixels are broken behind a good header is found while opening.
func TestImageFolderSkipBad(t *testing.T) {
	dir := t.TempDir()
	grayFolder(t, dir, 5, "a", "b")
	var full bytes.Buffer
	png.Encode(&full, grayImage(6, 5, 3))
	putFile(t, dir, "a/cut.png", full.Bytes()[:full.Len()-20]) // the header is whole
	f, err := datasets.OpenImageFolder(dir, datasets.ImageFolderOptions{})
	if err != nil {
		t.Fatalf("without SkipBad the headers pass: %v", err)
	}
	// Without SkipBad the broken pixels are met when the image is read
	// (TestImageFilesReadError).
	if !slices.ContainsFunc(pathsOf(f), func(p string) bool { return strings.HasSuffix(p, "cut.png") }) {
		t.Fatal("cut.png not listed")
	}
	putFile(t, dir, "b/text.png", []byte("text"))
	f, err = datasets.OpenImageFolder(dir, datasets.ImageFolderOptions{SkipBad: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Skipped) != 2 || !strings.Contains(f.Skipped[0], "cut.png") || !strings.Contains(f.Skipped[1], "text.png") || f.Train.Len()+f.Test.Len() != 10 {
		t.Fatalf("skipped %q, %d images", f.Skipped, f.Train.Len()+f.Test.Len())
	}
	// A class left empty by skipping is an error.
	dir = t.TempDir()
	grayFolder(t, dir, 2, "a")
	putFile(t, dir, "b/bad.png", []byte("x"))
	_, err = datasets.OpenImageFolder(dir, datasets.ImageFolderOptions{SkipBad: true})
	checkOneLineError(t, err, filepath.Join(dir, "b"), "an empty class once its unreadable images are skipped")
}

// pathsOf lists the files of both splits.
func pathsOf(f *datasets.ImageFolder) []string {
	var out []string
	for _, s := range []*datasets.ImageFiles{f.Train, f.Test} {
		for i := range s.Len() {
			out = append(out, s.Path(i))
		}
	}
	return out
}

// An image whose pixels are broken behind a good header is a one-line
// error naming it when it is read.
func TestImageFilesReadError(t *testing.T) {
	dir := t.TempDir()
	grayFolder(t, dir, 5, "a", "b")
	var full bytes.Buffer
	png.Encode(&full, grayImage(6, 5, 3))
	cut := putFile(t, dir, "a/cut.png", full.Bytes()[:full.Len()-20])
	f, err := datasets.OpenImageFolder(dir, datasets.ImageFolderOptions{HeldOut: 0.1})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []*datasets.ImageFiles{f.Train, f.Test} {
		for i := range s.Len() {
			_, err := s.Read(i, make([]float32, 30), nil)
			if s.Path(i) == cut {
				checkOneLineError(t, err, cut, "not a readable PNG image")
			} else if err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := f.Train.Read(0, make([]float32, 29), nil); err == nil || !strings.Contains(err.Error(), "29 values to read into, want 30") {
		t.Fatalf("a short destination: %v", err)
	}
	if _, err := f.Train.Read(-1, make([]float32, 30), nil); err == nil {
		t.Fatal("image -1 read")
	}
	os.Remove(f.Train.Path(0))
	if _, err := f.Train.Read(0, make([]float32, 30), nil); err == nil || !strings.Contains(err.Error(), f.Train.Path(0)) {
		t.Fatalf("a removed file: %v", err)
	}
}

// Augmented reads depend on the generator only: the same seed gives the
// same image, and without a generator nothing changes.
func TestImageFilesAugment(t *testing.T) {
	dir := t.TempDir()
	grayFolder(t, dir, 5, "a", "b")
	aug := datasets.Augmentation{CropPadding: 2, Flip: true}
	f, err := datasets.OpenImageFolder(dir, datasets.ImageFolderOptions{Augment: aug})
	if err != nil {
		t.Fatal(err)
	}
	if !f.Train.Augments() || f.Test.Augments() {
		t.Fatal("the training split augments, the test split does not")
	}
	plain := make([]float32, 30)
	f.Train.Read(0, plain, nil)
	differs := false
	for seed := range uint64(8) {
		a, b := make([]float32, 30), make([]float32, 30)
		f.Train.Read(0, a, rand.New(rand.NewPCG(seed, 0)))
		f.Train.Read(0, b, rand.New(rand.NewPCG(seed, 0)))
		if !slices.Equal(a, b) {
			t.Fatal("the same seed gave two images")
		}
		differs = differs || !slices.Equal(a, plain)
	}
	if !differs {
		t.Fatal("eight seeds left the image as it is")
	}
}

func TestAugmentation(t *testing.T) {
	// A 1×3×4 image, values 1..12.
	x := func() []float32 {
		v := make([]float32, 12)
		for i := range v {
			v[i] = float32(i + 1)
		}
		return v
	}
	// Find seeds whose draws are known, by drawing as Apply does.
	draw := func(seed uint64, p int) (dy, dx, flip int) {
		r := rand.New(rand.NewPCG(seed, 0))
		return r.IntN(2*p+1) - p, r.IntN(2*p+1) - p, r.IntN(2)
	}
	for seed := range uint64(40) {
		dy, dx, flip := draw(seed, 1)
		got := x()
		datasets.Augmentation{CropPadding: 1, Flip: true}.Apply(got, 1, 3, 4, rand.New(rand.NewPCG(seed, 0)), make([]float32, 12))
		src := x()
		for y := range 3 {
			for xx := range 4 {
				sx := xx
				if flip == 1 {
					sx = 3 - xx
				}
				want := float32(0)
				if yy, xs := y+dy, sx+dx; yy >= 0 && yy < 3 && xs >= 0 && xs < 4 {
					want = src[yy*4+xs]
				}
				if got[y*4+xx] != want {
					t.Fatalf("seed %d (dy %d dx %d flip %d): pixel (%d,%d) = %g, want %g; image %v", seed, dy, dx, flip, y, xx, got[y*4+xx], want, got)
				}
			}
		}
	}
	for _, c := range []struct {
		in   string
		want datasets.Augmentation
		err  string
	}{
		{"", datasets.Augmentation{}, ""},
		{"none", datasets.Augmentation{}, ""},
		{"crop,flip", datasets.Augmentation{CropPadding: 4, Flip: true}, ""},
		{"flip, crop=2", datasets.Augmentation{CropPadding: 2, Flip: true}, ""},
		{"crop=0", datasets.Augmentation{}, `crop padding "0" must be a whole number of pixels from 1 to 64`},
		{"crop=1e9", datasets.Augmentation{}, "crop padding"},
		{"rotate", datasets.Augmentation{}, `unknown "rotate" (want crop, crop=N or flip`},
	} {
		got, err := datasets.ParseAugmentation(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: error %v, want %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%q: %+v %v", c.in, got, err)
		}
		if back, err := datasets.ParseAugmentation(got.String()); err != nil || back != got {
			t.Errorf("%q: String %q reads back as %+v %v", c.in, got.String(), back, err)
		}
	}
}

// BenchmarkImageFilesRead reads 28×28 grayscale PNGs, as the full
// Fashion-MNIST written as PNGs holds, one at a time: open, decode,
// convert.
func BenchmarkImageFilesRead(b *testing.B) {
	dir := b.TempDir()
	for c, class := range []string{"a", "b"} {
		for i := range 32 {
			writeImage(b, filepath.Join(dir, class, fmt.Sprintf("%02d.png", i)), grayImage(28, 28, 40*c+i))
		}
	}
	f, err := datasets.OpenImageFolder(dir, datasets.ImageFolderOptions{})
	if err != nil {
		b.Fatal(err)
	}
	x := make([]float32, 28*28)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := f.Train.Read(i%f.Train.Len(), x, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// ReadImage, which predict and serve use, converts an image exactly as
// training reads it from its folder: every format, one channel and three,
// at the image's own size and resized.
func TestReadImageIsImageFilesRead(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"image-valid.png", "image-valid.jpg", "image-valid.gif", "image-valid.webp"} {
		b, err := os.ReadFile(fixture(name))
		if err != nil {
			t.Fatal(err)
		}
		putFile(t, dir, "red/"+name, b)
	}
	grayFolder(t, dir, 3, "gray")
	for _, opt := range []datasets.ImageFolderOptions{
		{Height: 5, Width: 6, Channels: 1}, {Height: 5, Width: 6, Channels: 3}, {Height: 3, Width: 4, Channels: 1}, {Height: 7, Width: 9, Channels: 3},
	} {
		opt.HeldOut = 0.5
		f, err := datasets.OpenImageFolder(dir, opt)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range append(readAllPaths(t, f.Train), readAllPaths(t, f.Test)...) {
			got, err := datasets.ReadImage(r.path, f.Shape, false)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, r.x) {
				t.Errorf("%s %v: ReadImage differs from the folder's Read", r.path, f.Shape)
			}
		}
	}
}
