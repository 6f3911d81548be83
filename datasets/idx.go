package datasets

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"math/bits"
	"os"
	"path/filepath"
	"slices"

	"github.com/dlrun/dlrun/internal/safeio"
	"github.com/pkg/errors"
)

// The four files of an IDX dataset, in the order their contents are hashed.
var idxNames = [4]string{
	"train-images-idx3-ubyte",
	"train-labels-idx1-ubyte",
	"t10k-images-idx3-ubyte",
	"t10k-labels-idx1-ubyte",
}

// maxIDXHeader is the length of the longest IDX header that ReadIDX
// accepts: the magic number and four dimensions.
const maxIDXHeader = 4 + 4*4

// IDX is the content of one IDX file: unsigned bytes with dimensions.
type IDX struct {
	Dims []int
	Data []uint8
}

// ReadIDX reads an IDX file of unsigned bytes (type code 0x08), gzipped or
// not, from r. name is used in errors. The data must be exactly as long as
// the header says: a short file is reported as truncated and trailing bytes
// as an error. The header may claim at most MaxSplitBytes of data. When r
// is an *os.File or a *bytes.Reader, the claim is also checked against
// what the file can hold before any data is read (its length; a gzipped
// file inflates to at most 1032 times its length), and the data is read
// into one allocation of the claimed size; from other readers the data is
// read as it arrives, so no more memory is reserved than the file holds.
func ReadIDX(r io.Reader, name string) (*IDX, error) {
	x, err := openIDX(source{name, r, storedSize(r)})
	if err != nil {
		return nil, err
	}
	defer x.data.Close()
	var data []byte
	if x.data.most >= 0 {
		data = make([]byte, 0, x.total)
	} else {
		data = make([]byte, 0, min(x.total, 64<<10))
	}
	err = x.read(func(p []byte) {
		if len(data)+len(p) > cap(data) {
			// Double, up to the claimed size: at most twice the data
			// arrived is ever allocated.
			grown := make([]byte, len(data), min(x.total, 2*int64(cap(data))))
			copy(grown, data)
			data = grown
		}
		data = append(data, p...)
	})
	if err != nil {
		return nil, err
	}
	return &IDX{Dims: x.dims, Data: data}, nil
}

// idxStream is an IDX file whose header has been read: its dimensions and
// the data that follows.
type idxStream struct {
	name  string
	dims  []int
	total int64 // bytes of data the header claims
	data  *unpacked
}

// openIDX reads the header of the IDX file s and checks its claim against
// MaxSplitBytes and, when s's size is known, against what s can hold.
func openIDX(s source) (*idxStream, error) {
	u, err := unpack(s, maxIDXHeader+MaxSplitBytes)
	if err != nil {
		return nil, err
	}
	x, err := readIDXHeader(u, s.name)
	if err != nil {
		u.Close()
		return nil, err
	}
	return x, nil
}

func readIDXHeader(u *unpacked, name string) (*idxStream, error) {
	var magic [4]byte
	if _, err := io.ReadFull(u, magic[:]); err != nil {
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
	raw := make([]byte, 4*nd)
	if _, err := io.ReadFull(u, raw); err != nil {
		return nil, errors.Errorf("%s: truncated IDX header (%v)", name, err)
	}
	dims := make([]int, nd)
	total, over, zero := uint64(1), false, false
	for i := range dims {
		d := binary.BigEndian.Uint32(raw[4*i:])
		dims[i] = int(d)
		hi, lo := bits.Mul64(total, uint64(d))
		over = over || hi != 0 || lo > MaxSplitBytes
		zero = zero || d == 0
		total = lo
	}
	if zero {
		total = 0
	} else if over {
		return nil, fmt.Errorf("%s: IDX header %v claims more than the %d bytes of data a file may hold (MaxSplitBytes): %w", name, dims, MaxSplitBytes, safeio.ErrTooLarge)
	}
	x := &idxStream{name: name, dims: dims, total: int64(total), data: u}
	if u.most < 0 {
		return x, nil
	}
	head := int64(4 + 4*nd)
	switch held := u.most - head; {
	case u.gzipped && held < x.total:
		return nil, errors.Errorf("%s: IDX header %v claims %d bytes of data, more than a gzip file of %d bytes can hold (at most %d)", name, dims, x.total, u.most/maxGzipRatio, held)
	case u.gzipped:
	case held < x.total:
		return nil, errors.Errorf("%s: truncated: header %v claims %d bytes of data, file holds %d", name, dims, x.total, held)
	case held > x.total:
		return nil, errors.Errorf("%s: more data than header %v claims (%d bytes)", name, dims, x.total)
	}
	return x, nil
}

// read reads the data, handing it to each in chunks in order, and checks
// that the file ends with it.
func (x *idxStream) read(each func(chunk []byte)) error {
	buf := make([]byte, min(x.total, 64<<10))
	for n := int64(0); n < x.total; {
		k, err := io.ReadFull(x.data, buf[:min(int64(len(buf)), x.total-n)])
		each(buf[:k])
		n += int64(k)
		switch {
		case (err == io.EOF || err == io.ErrUnexpectedEOF) && x.data.gzipped:
			return errors.Errorf("%s: truncated: the gzip stream ends early, after %d of the %d bytes that header %v claims", x.name, n, x.total, x.dims)
		case err == io.EOF || err == io.ErrUnexpectedEOF:
			return errors.Errorf("%s: truncated: header %v claims %d bytes of data, file holds %d", x.name, x.dims, x.total, n)
		case err != nil:
			return x.readError(err)
		}
	}
	var one [1]byte
	switch _, err := io.ReadFull(x.data, one[:]); {
	case err == io.EOF:
		return nil
	case err == io.ErrUnexpectedEOF && x.data.gzipped:
		return errors.Errorf("%s: truncated: the gzip stream ends early, before its checksum, after the %d bytes that header %v claims", x.name, x.total, x.dims)
	case err == nil || errors.Is(err, safeio.ErrTooLarge):
		return errors.Errorf("%s: more data than header %v claims (%d bytes)", x.name, x.dims, x.total)
	default:
		return x.readError(err)
	}
}

// readError reports an error reading x's data: a corrupt gzip stream
// (bad deflate data, a wrong checksum) or a failing read.
func (x *idxStream) readError(err error) error {
	if x.data.gzipped {
		return errors.Errorf("%s: corrupt gzip stream (%v)", x.name, err)
	}
	return errors.Errorf("%s: %v", x.name, err)
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
// name or a classes.txt (see the package documentation). Each file must be
// a regular file; an images file may hold at most MaxSplitBytes of pixels,
// which are read straight into the float32 examples, so loading takes
// little more memory than the dataset itself.
func LoadIDXDir(dir string) (*Dataset, error) {
	d, err := idxDataset(dir, func(i int) (source, func(), error) {
		path, err := findIDX(dir, idxNames[i])
		if err != nil {
			return source{}, nil, err
		}
		return openSource(path)
	})
	if err != nil {
		return nil, err
	}
	if d.Classes, err = classNames(dir, len(d.Classes)); err != nil {
		return nil, err
	}
	return d, nil
}

// pixelScale maps a stored byte to its [0, 1] value.
var pixelScale = func() (t [256]float32) {
	for i := range t {
		t[i] = float32(i) / 255
	}
	return t
}()

// idxDataset reads the four IDX files that open(i) opens, in the order of
// idxNames. Their headers are read and checked against each other first
// (checkIDXDims), so that files whose counts or sizes disagree are refused
// before any of their data is read; then each file is read whole. The
// SHA-256 is over the files as stored.
func idxDataset(dsName string, open func(int) (source, func(), error)) (*Dataset, error) {
	var (
		dims  [4][]int
		names [4]string
	)
	for i := range idxNames {
		s, done, err := open(i)
		if err != nil {
			return nil, err
		}
		x, err := openIDX(s)
		if err == nil {
			dims[i], names[i] = x.dims, x.name
			x.data.Close()
		}
		done()
		if err != nil {
			return nil, err
		}
	}
	if err := checkIDXDims(dims, names); err != nil {
		return nil, err
	}
	h := sha256.New()
	var (
		images  [2][]float32
		labels  [2][]int
		classes int
	)
	for i := range idxNames {
		s, done, err := open(i)
		if err != nil {
			return nil, err
		}
		raw := s.r
		s.r = io.TeeReader(raw, h)
		x, err := openIDX(s)
		if err != nil {
			done()
			return nil, err
		}
		switch {
		case !slices.Equal(x.dims, dims[i]):
			err = errors.Errorf("%s: its header changed from %v to %v while the dataset was read", x.name, dims[i], x.dims)
		case i%2 == 0:
			err = readPixels(x, &images[i/2])
		default:
			err = readLabels(x, &labels[i/2], &classes)
		}
		x.data.Close()
		if err == nil {
			// Hash whatever of the stored file the reader left unread.
			if _, err = io.Copy(h, raw); err != nil {
				err = errors.Wrapf(err, "reading %s", s.name)
			}
		}
		done()
		if err != nil {
			return nil, err
		}
	}
	shape := []int{1, dims[0][1], dims[0][2]}
	train, err := NewSplit(images[0], labels[0], shape, classes)
	if err != nil {
		return nil, err
	}
	test, err := NewSplit(images[1], labels[1], shape, classes)
	if err != nil {
		return nil, err
	}
	return &Dataset{
		Name: dsName, Shape: shape, Classes: make([]string, classes), Train: train, Test: test,
		SHA256: hex.EncodeToString(h.Sum(nil)),
	}, nil
}

// checkIDXDims checks the headers of the four files of an IDX dataset
// (dims, named names, in the order of idxNames) against each other:
// images of [count rows columns], none 0, of one size in both splits, and
// as many labels, [count], as images.
func checkIDXDims(dims [4][]int, names [4]string) error {
	for i, d := range dims {
		switch {
		case i%2 == 0 && (len(d) != 3 || d[0] == 0 || d[1] == 0 || d[2] == 0):
			return errors.Errorf("%s: images have dimensions %v, want [count rows columns], none 0", names[i], d)
		case i == 2 && (d[1] != dims[0][1] || d[2] != dims[0][2]):
			return errors.Errorf("%s: images are %dx%d but %s has %dx%d", names[0], dims[0][1], dims[0][2], names[i], d[1], d[2])
		case i%2 == 1 && len(d) != 1:
			return errors.Errorf("%s: labels have dimensions %v, want [count]", names[i], d)
		case i%2 == 1 && d[0] != dims[i-1][0]:
			return errors.Errorf("%s has %d images but %s has %d labels", names[i-1], dims[i-1][0], names[i], d[0])
		}
	}
	return nil
}

// readPixels reads the data of x into *dst, scaled to [0, 1]: one
// allocation of the claimed size, which openIDX has checked.
func readPixels(x *idxStream, dst *[]float32) error {
	out := make([]float32, 0, x.total)
	err := x.read(func(p []byte) {
		for _, v := range p {
			out = append(out, pixelScale[v])
		}
	})
	*dst = out
	return err
}

// readLabels reads the data of x into *dst, raising *classes to one more
// than the largest label.
func readLabels(x *idxStream, dst *[]int, classes *int) error {
	out := make([]int, 0, x.total)
	err := x.read(func(p []byte) {
		for _, v := range p {
			out = append(out, int(v))
			*classes = max(*classes, int(v)+1)
		}
	})
	*dst = out
	return err
}
