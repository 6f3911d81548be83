// Package datasets provides dlrun's bundled datasets and readers for the
// standard file formats.
//
// The bundled data (the XOR points, a 6,000/1,000 subset of
// Fashion-MNIST, Pride and Prejudice, the MovieLens ratings and the JSB
// Chorales) is embedded in the binary, so dlrun works from any folder. Other data is
// read from a folder: IDX files (the MNIST format, gzipped or not),
// CIFAR-10's binary batches, or ratings in MovieLens's CSV or ml-100k
// layout (LoadRatingsDir), a UTF-8 text (LoadTextFile) or a folder of
// them (LoadTextDir), and PNG, JPEG, GIF or WebP
// images (ReadImage). A folder of IDX files may hold a classes.txt that
// names the classes, one a line in label order. A folder of PNG, JPEG,
// GIF or WebP images, one folder per class (OpenImageFolder), is read
// image by image as training needs it (ImageFiles), so it may be larger
// than memory. A CSV table (LoadTable) becomes model inputs by a
// Preprocessing (standardised numbers, one-hot or embedded categories)
// that is saved with a run and applied to new rows. Standard MIDI Files
// are read as piano rolls (LoadMIDIDir).
//
// Every reader opens only regular files (a FIFO, a device or a directory is
// an error naming it, and nothing blocks), checks its input and reports a
// malformed, truncated or oversized file as a one-line error naming the
// file (and, for text formats, the line); none panics. Sizes that come
// from a file (headers, declared image dimensions, the length of a gzip
// stream) are checked against what the file can hold and against the
// documented limits (MaxSplitBytes, MaxImagePixels, MaxTextBytes,
// MaxRatingsBytes, ...) before memory is reserved for them.
//
// The package stands alone: the training loop consumes a Split through its
// Len, Shape, NumClasses and Example methods.
package datasets

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/dlrun/dlrun/internal/safeio"
	"github.com/pkg/errors"
)

// DefaultHeldOut is the share of a dataset held out for testing when its
// files do not say which part is for testing: an image folder without a
// test folder, a table without a test file (0.2, as Keras's
// validation_split is commonly set).
const DefaultHeldOut = 0.2

// Dataset is a train/test pair of labelled examples.
type Dataset struct {
	Name    string   // "fashion-mnist", "xor", or the folder it was read from
	Shape   []int    // per-example input shape, e.g. [1 28 28] (channels, height, width)
	Classes []string // class names in label order
	Train   *Split
	Test    *Split
	SHA256  string // hex SHA-256 over the dataset's source files, in a fixed order
}

// Split is one part of a dataset: N examples of a fixed shape with integer
// labels in [0, NumClasses).
type Split struct {
	X       []float32 // N × prod(shape) values; pixels are scaled to [0, 1]
	Labels  []int
	shape   []int
	classes int
}

// NewSplit checks and wraps examples x (len(labels) × prod(shape) values)
// and their labels.
func NewSplit(x []float32, labels []int, shape []int, classes int) (*Split, error) {
	size := 1
	for _, d := range shape {
		if d <= 0 {
			return nil, errors.Errorf("datasets: shape %v has a non-positive dimension", shape)
		}
		size *= d
	}
	if len(x) != len(labels)*size {
		return nil, errors.Errorf("datasets: %d values for %d examples of shape %v", len(x), len(labels), shape)
	}
	for i, l := range labels {
		if l < 0 || l >= classes {
			return nil, errors.Errorf("datasets: label %d of example %d is outside [0, %d)", l, i, classes)
		}
	}
	return &Split{X: x, Labels: labels, shape: append([]int(nil), shape...), classes: classes}, nil
}

// Len returns the number of examples.
func (s *Split) Len() int { return len(s.Labels) }

// Shape returns the per-example input shape.
func (s *Split) Shape() []int { return append([]int(nil), s.shape...) }

// NumClasses returns the number of classes.
func (s *Split) NumClasses() int { return s.classes }

// Example copies example i into dst (prod(Shape) values) and returns its label.
func (s *Split) Example(i int, dst []float32) int {
	n := len(dst)
	copy(dst, s.X[i*n:(i+1)*n])
	return s.Labels[i]
}

// Subset returns the first n examples of s (all of them if n >= Len).
func (s *Split) Subset(n int) *Split {
	if n >= s.Len() {
		return s
	}
	size := len(s.X) / s.Len()
	return &Split{X: s.X[:n*size], Labels: s.Labels[:n], shape: s.shape, classes: s.classes}
}

// Names lists the bundled datasets (images and XOR; the bundled text is
// PrideAndPrejudice).
func Names() []string { return []string{"fashion-mnist", "xor"} }

// Bundled lists every bundled dataset, whatever it holds: Names' labelled
// examples, the novel (pride-and-prejudice, PrideAndPrejudice) and the
// ratings (movielens, MovieLens). It is the one list that help texts and
// errors name.
func Bundled() []string { return append(Names(), "pride-and-prejudice", "movielens") }

// Load returns a bundled dataset by name, or reads the folder at nameOrDir
// when it is not a bundled name. A folder is read as IDX files (see
// LoadIDXDir).
func Load(nameOrDir string) (*Dataset, error) {
	switch nameOrDir {
	case "xor":
		return XOR(), nil
	case "fashion-mnist", "fashion_mnist", "fashionmnist":
		return FashionMNIST()
	}
	st, err := os.Stat(nameOrDir)
	if err != nil {
		if os.IsNotExist(err) {
			return nil, errors.Errorf("dataset %q: neither a bundled dataset (%s) nor an existing folder", nameOrDir, strings.Join(Bundled(), ", "))
		}
		return nil, errors.Wrapf(err, "dataset %s", nameOrDir)
	}
	if !st.IsDir() {
		if IsTable(nameOrDir) {
			return nil, errors.Errorf("dataset %s: a CSV table: name the column to predict (the target option, --target COLUMN)", nameOrDir)
		}
		return nil, errors.Errorf("dataset %s: not a folder", nameOrDir)
	}
	return LoadDir(nameOrDir)
}

// LoadDir reads a dataset from a folder, detecting its format: IDX files
// (LoadIDXDir) or CIFAR-10 binary batches (LoadCIFAR10Dir). A folder in
// neither format is an error that says what was looked for.
func LoadDir(dir string) (*Dataset, error) {
	if ok, _ := hasIDX(dir); ok {
		return LoadIDXDir(dir)
	}
	if _, _, ok := cifarFiles(dir); ok {
		return LoadCIFAR10Dir(dir)
	}
	return nil, errors.Errorf("dataset folder %s: neither format found: want %s", dir, formatsWanted())
}

// hashFiles returns the hex SHA-256 over the concatenated contents, in order.
func hashFiles(contents ...[]byte) string {
	h := sha256.New()
	for _, c := range contents {
		h.Write(c)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// classNames returns names for a dataset read from dir: the names of a
// known dataset if the folder is named after it (as Debian's
// /usr/share/datasets/fashion-mnist is), else the names listed one per line
// in dir/classes.txt, else the label numbers. A classes.txt that is not a
// regular file, is longer than MaxClassesBytes, is not UTF-8 or does not
// list one name for each class is an error naming it.
func classNames(dir string, classes int) ([]string, error) {
	base := strings.ToLower(filepath.Base(filepath.Clean(dir)))
	if strings.Contains(base, "fashion") && classes == len(FashionMNISTClasses) {
		return append([]string(nil), FashionMNISTClasses...), nil
	}
	path := filepath.Join(dir, "classes.txt")
	if _, err := os.Lstat(path); err == nil {
		b, err := safeio.ReadFile(path, MaxClassesBytes)
		if err != nil {
			return nil, err
		}
		return parseClassNames(path, b, classes)
	}
	names := make([]string, classes)
	for i := range names {
		names[i] = strconv.Itoa(i)
	}
	return names, nil
}

// parseClassNames reads the class names of a classes.txt, one a line.
func parseClassNames(name string, b []byte, classes int) ([]string, error) {
	if !utf8.Valid(b) {
		return nil, errors.Errorf("%s: not UTF-8 text", name)
	}
	var names []string
	if text := strings.TrimRight(string(b), " \t\r\n"); text != "" {
		for i, l := range strings.Split(text, "\n") {
			n := strings.TrimSpace(l)
			if n == "" {
				return nil, errors.Errorf("%s:%d: empty class name", name, i+1)
			}
			names = append(names, n)
		}
	}
	if len(names) != classes {
		return nil, errors.Errorf("%s: %d names, but the labels number %d classes", name, len(names), classes)
	}
	return names, nil
}

// numClasses returns 1 + the largest label in the splits.
func numClasses(labels ...[]uint8) int {
	m := 0
	for _, ls := range labels {
		for _, l := range ls {
			if int(l)+1 > m {
				m = int(l) + 1
			}
		}
	}
	return m
}

// quotedList lists names for an error message, each quoted (a name may
// hold a line break), the first 20 of a longer list.
func quotedList(names []string) string {
	var b strings.Builder
	for i, n := range names {
		if i == 20 {
			fmt.Fprintf(&b, ", ... (%d in all)", len(names))
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Quote(n))
	}
	return b.String()
}
