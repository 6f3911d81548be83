package datasets

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"

	"github.com/dlrun/dlrun/internal/safeio"
	"github.com/pkg/errors"
)

// source is one input file: the name its errors give, its bytes as
// stored, and how many there are (-1 when unknown).
type source struct {
	name string
	r    io.Reader
	size int64
}

// openSource opens the regular file at path with safeio (a FIFO, a device
// or a directory is an error naming it, and nothing blocks); close closes
// it.
func openSource(path string) (s source, close func(), err error) {
	f, err := safeio.Open(path)
	if err != nil {
		return source{}, nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return source{}, nil, errors.Wrapf(err, "reading %s", path)
	}
	return source{path, f, fi.Size()}, func() { f.Close() }, nil
}

// bytesSource presents b as a file named name.
func bytesSource(name string, b []byte) source {
	return source{name, bytes.NewReader(b), int64(len(b))}
}

// storedSize returns the bytes left to read in r when r says (an
// *os.File of a regular file, a *bytes.Reader), else -1.
func storedSize(r io.Reader) int64 {
	switch r := r.(type) {
	case *bytes.Reader:
		return int64(r.Len())
	case *os.File:
		fi, err := r.Stat()
		if err != nil || !fi.Mode().IsRegular() {
			return -1
		}
		at, err := r.Seek(0, io.SeekCurrent)
		if err != nil || at > fi.Size() {
			return -1
		}
		return fi.Size() - at
	}
	return -1
}

// unpacked is the content of a source: the source's bytes themselves, or
// their decompression if they start with gzip's magic bytes.
type unpacked struct {
	io.Reader
	gzipped bool
	// most is the most bytes the content can hold: the stored size, or
	// maxGzipRatio times it when gzipped; -1 when the size is unknown.
	most int64
	zr   *gzip.Reader
}

// Close releases the decompressor.
func (u *unpacked) Close() {
	if u.zr != nil {
		u.zr.Close()
	}
}

// unpack returns s's content, gzipped or not, bounded by limit bytes
// (safeio.Limit): a longer content fails on reading past the limit with
// an error naming s and wrapping safeio.ErrTooLarge, having reserved
// nothing beyond it. A stored file longer than limit fails at once.
func unpack(s source, limit int64) (*unpacked, error) {
	br := bufio.NewReaderSize(s.r, 64<<10)
	u := &unpacked{most: s.size}
	if head, err := br.Peek(2); err == nil && head[0] == 0x1f && head[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, errors.Errorf("%s: bad gzip header (%v)", s.name, err)
		}
		u.zr, u.gzipped = zr, true
		if s.size >= 0 {
			u.most = s.size * maxGzipRatio
		}
		u.Reader = safeio.Limit(zr, limit, s.name)
		return u, nil
	}
	if s.size > limit {
		return nil, fmt.Errorf("%s: %d bytes, more than the %d this file may hold: %w", s.name, s.size, limit, safeio.ErrTooLarge)
	}
	u.Reader = safeio.Limit(br, limit, s.name)
	return u, nil
}
