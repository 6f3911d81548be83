// Package safeio opens and reads the files dlrun is given with the checks
// that keep hostile input from hanging or exhausting memory: only regular
// files are read (a FIFO would block, a device such as /dev/zero never
// ends), whole-file reads are bounded by a size stated up front, and
// decompressed streams are bounded too (a gzip bomb fails at its limit,
// having reserved no more than the limit).
package safeio

import (
	"fmt"
	"io"
	"os"

	"github.com/dlrun/dlrun/internal/atomicfile"
)

// ErrTooLarge is wrapped by the errors of reads that pass their limit.
var ErrTooLarge = fmt.Errorf("too large")

// Open opens path for reading if it is a regular file (after following
// symbolic links), and returns a one-line error naming it otherwise. It
// does not block on a FIFO.
func Open(path string) (*os.File, error) {
	f, err := openNonBlocking(path)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%s: not a regular file (%s)", path, atomicfile.Describe(fi.Mode()))
	}
	if err := setBlocking(f); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// ReadFile reads the regular file path whole if it holds at most limit
// bytes; a larger file is an error naming it, its size and the limit,
// and nothing is read.
func ReadFile(path string, limit int64) ([]byte, error) {
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if fi.Size() > limit {
		return nil, fmt.Errorf("%s: %d bytes, more than the %d this file may hold: %w", path, fi.Size(), limit, ErrTooLarge)
	}
	// One allocation of the stated size (plus a byte to see the end); the
	// file may still grow while it is read, so read at most one byte past
	// the limit to see that.
	b := make([]byte, 0, fi.Size()+1)
	r := io.LimitReader(f, limit+1)
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: more than the %d bytes this file may hold: %w", path, limit, ErrTooLarge)
	}
	return b, nil
}

// Limit returns a reader that reads r until limit bytes have been read,
// then fails with an error naming what (a file, say) and the limit
// instead of reading on: for decompressed streams, whose size the
// compressed file does not bound.
func Limit(r io.Reader, limit int64, what string) io.Reader {
	return &limited{r: r, left: limit, limit: limit, what: what}
}

type limited struct {
	r           io.Reader
	left, limit int64
	what        string
}

func (l *limited) Read(p []byte) (int, error) {
	if l.left <= 0 {
		// Only an error if there is more to read.
		var one [1]byte
		n, err := l.r.Read(one[:])
		if n > 0 {
			return 0, fmt.Errorf("%s: more than %d bytes: %w", l.what, l.limit, ErrTooLarge)
		}
		return 0, err
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	return n, err
}

// ReadAll reads r whole, at most limit bytes (Limit).
func ReadAll(r io.Reader, limit int64, what string) ([]byte, error) {
	return io.ReadAll(Limit(r, limit, what))
}
