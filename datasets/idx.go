package datasets

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"

	"github.com/pkg/errors"
)

// The four files of an IDX dataset, in the order their contents are hashed.
var idxNames = [4]string{
	"train-images-idx3-ubyte",
	"train-labels-idx1-ubyte",
	"t10k-images-idx3-ubyte",
	"t10k-labels-idx1-ubyte",
}

// maxIDXBytes bounds the data an IDX header may claim (4 GiB).
const maxIDXBytes = 1 << 32

// IDX is the content of one IDX file: unsigned bytes with dimensions.
type IDX struct {
	Dims []int
	Data []uint8
}

// ReadIDX reads an IDX file of unsigned bytes (type code 0x08), gzipped or
// not, from r. name is used in errors. The data must be exactly as long as
// the header says: a short file is reported as truncated and trailing bytes
// as an error, and no more memory is allocated than the file really holds.
func ReadIDX(r io.Reader, name string) (*IDX, error) {
	br := bufio.NewReader(r)
	if head, err := br.Peek(2); err == nil && head[0] == 0x1f && head[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, errors.Wrapf(err, "%s: bad gzip header", name)
		}
		defer zr.Close()
		br = bufio.NewReader(zr)
	}
	var magic [4]byte
	if _, err := io.ReadFull(br, magic[:]); err != nil {
		return nil, errors.Errorf("%s: truncated IDX header (%v)", name, err)
	}
	if magic[0] != 0 || magic[1] != 0 {
		return nil, errors.Errorf("%s: not an IDX file (magic % x)", name, magic)
	}
	if magic[2] != 0x08 {
		return nil, errors.Errorf("%s: IDX element type 0x%02x is not supported (want 0x08, unsigned byte)", name, magic[2])
	}
	nd := int(magic[3])
	if nd == 0 || nd > 4 {
		return nil, errors.Errorf("%s: IDX header has %d dimensions (want 1 to 4)", name, nd)
	}
	dims := make([]int, nd)
	total := uint64(1)
	for i := range dims {
		var d uint32
		if err := binary.Read(br, binary.BigEndian, &d); err != nil {
			return nil, errors.Errorf("%s: truncated IDX header (%v)", name, err)
		}
		dims[i] = int(d)
		total *= uint64(d)
		if total > maxIDXBytes {
			return nil, errors.Errorf("%s: IDX header claims more than %d bytes of data", name, uint64(maxIDXBytes))
		}
	}
	// Read at most total+1 bytes; the buffer grows only as data arrives.
	var buf bytes.Buffer
	n, err := io.Copy(&buf, io.LimitReader(br, int64(total)+1))
	if err == io.ErrUnexpectedEOF {
		return nil, errors.Errorf("%s: truncated: the gzip stream ends early, after %d of the %d bytes that header %v claims", name, n, total, dims)
	}
	if err != nil {
		return nil, errors.Wrapf(err, "%s: reading IDX data", name)
	}
	if uint64(n) < total {
		return nil, errors.Errorf("%s: truncated: header %v claims %d bytes of data, file holds %d", name, dims, total, n)
	}
	if uint64(n) > total {
		return nil, errors.Errorf("%s: more data than header %v claims (%d bytes)", name, dims, total)
	}
	return &IDX{Dims: dims, Data: buf.Bytes()}, nil
}

// hasIDX reports whether dir holds the four IDX files.
func hasIDX(dir string) (bool, error) {
	for _, n := range idxNames {
		if _, err := findIDX(dir, n); err != nil {
			return false, err
		}
	}
	return true, nil
}

func findIDX(dir, name string) (string, error) {
	for _, p := range []string{name, name + ".gz"} {
		path := filepath.Join(dir, p)
		if _, err := os.Stat(path); err == nil {
			return path, nil
		}
	}
	return "", errors.Errorf("%s: missing %s (or %s.gz)", dir, name, name)
}

// LoadIDXDir reads an image classification dataset from the four standard
// IDX files in dir (train-images-idx3-ubyte, train-labels-idx1-ubyte,
// t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, each optionally .gz),
// e.g. the full Fashion-MNIST that Debian's dataset-fashion-mnist installs
// in /usr/share/datasets/fashion-mnist. Class names come from the folder's
// name or a classes.txt (see the package documentation).
func LoadIDXDir(dir string) (*Dataset, error) {
	var raw [4][]byte
	for i, n := range idxNames {
		path, err := findIDX(dir, n)
		if err != nil {
			return nil, err
		}
		if raw[i], err = os.ReadFile(path); err != nil {
			return nil, errors.Wrapf(err, "reading %s", path)
		}
	}
	d, err := idxDataset(dir, raw, func(i int) string {
		p, _ := findIDX(dir, idxNames[i])
		return p
	})
	if err != nil {
		return nil, err
	}
	d.Classes = classNames(dir, len(d.Classes))
	return d, nil
}

// idxDataset parses the four IDX files; name(i) names file i in errors.
func idxDataset(dsName string, raw [4][]byte, name func(int) string) (*Dataset, error) {
	var parsed [4]*IDX
	for i := range raw {
		var err error
		if parsed[i], err = ReadIDX(bytes.NewReader(raw[i]), name(i)); err != nil {
			return nil, err
		}
	}
	for _, i := range []int{0, 2} {
		if len(parsed[i].Dims) != 3 {
			return nil, errors.Errorf("%s: images have dimensions %v, want [count rows columns]", name(i), parsed[i].Dims)
		}
		if len(parsed[i+1].Dims) != 1 {
			return nil, errors.Errorf("%s: labels have dimensions %v, want [count]", name(i+1), parsed[i+1].Dims)
		}
		if parsed[i].Dims[0] != parsed[i+1].Dims[0] {
			return nil, errors.Errorf("%s has %d images but %s has %d labels", name(i), parsed[i].Dims[0], name(i+1), parsed[i+1].Dims[0])
		}
	}
	if parsed[0].Dims[1] != parsed[2].Dims[1] || parsed[0].Dims[2] != parsed[2].Dims[2] {
		return nil, errors.Errorf("%s: images are %dx%d but %s has %dx%d", name(0), parsed[0].Dims[1], parsed[0].Dims[2], name(2), parsed[2].Dims[1], parsed[2].Dims[2])
	}
	classes := numClasses(parsed[1].Data, parsed[3].Data)
	shape := []int{1, parsed[0].Dims[1], parsed[0].Dims[2]}
	split := func(img, lab *IDX) (*Split, error) {
		x := make([]float32, len(img.Data))
		for i, v := range img.Data {
			x[i] = float32(v) / 255
		}
		labels := make([]int, len(lab.Data))
		for i, v := range lab.Data {
			labels[i] = int(v)
		}
		return NewSplit(x, labels, shape, classes)
	}
	train, err := split(parsed[0], parsed[1])
	if err != nil {
		return nil, err
	}
	test, err := split(parsed[2], parsed[3])
	if err != nil {
		return nil, err
	}
	names := make([]string, classes)
	return &Dataset{
		Name: dsName, Shape: shape, Classes: names, Train: train, Test: test,
		SHA256: hashFiles(raw[0], raw[1], raw[2], raw[3]),
	}, nil
}
