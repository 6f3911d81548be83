package board

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
)

// stamp tells versions of a file apart: its size and modification time.
// A run replaces its files whole (written to a temporary file, then
// renamed), so each version has a stamp of its own.
type stamp struct {
	size  int64
	mtime int64 // ns since 1970
}

func stampOf(fi fs.FileInfo) stamp { return stamp{fi.Size(), fi.ModTime().UnixNano()} }

// parsed is a file's parse, for the version of the file with stamp.
type parsed[T any] struct {
	stamp stamp
	val   T
	err   error
}

// fileCache keeps the parse of each file read, by path, for as long as the
// file keeps its stamp: polling a board over many runs reads only the
// files that changed. A scan reads every file through it and then calls
// sweep, which forgets the files the scan did not see.
type fileCache[T any] struct {
	parse   func([]byte) (T, error)
	limit   int64
	entries map[string]parsed[T]
	seen    map[string]bool
}

func newFileCache[T any](limit int64, parse func([]byte) (T, error)) *fileCache[T] {
	return &fileCache[T]{parse: parse, limit: limit, entries: map[string]parsed[T]{}, seen: map[string]bool{}}
}

// get returns the parse of the file at path in fsys (following symbolic
// links that stay in fsys), and its stamp; present is false if there is
// no such file. err is the reason the file could not be read or parsed;
// val is what parsed of it (a metrics table's good rows) or the zero T.
func (c *fileCache[T]) get(fsys fs.FS, path string) (val T, st stamp, present bool, err error) {
	fi, err := fs.Stat(fsys, path)
	if errors.Is(err, fs.ErrNotExist) {
		return val, st, false, nil
	}
	if err != nil {
		return val, st, true, err
	}
	if !fi.Mode().IsRegular() {
		return val, st, true, fmt.Errorf("not a regular file")
	}
	st = stampOf(fi)
	c.seen[path] = true
	if p, ok := c.entries[path]; ok && p.stamp == st {
		return p.val, st, true, p.err
	}
	b, err := readFile(fsys, path, fi.Size(), c.limit)
	if err == nil {
		val, err = c.parse(b)
	}
	c.entries[path] = parsed[T]{st, val, err}
	return val, st, true, err
}

// sweep forgets the files that the gets since the last sweep did not see.
func (c *fileCache[T]) sweep() {
	for p := range c.entries {
		if !c.seen[p] {
			delete(c.entries, p)
		}
	}
	clear(c.seen)
}

// readFile reads the regular file at path in fsys, of size bytes when it
// was stated, refusing one over limit bytes.
func readFile(fsys fs.FS, path string, size, limit int64) ([]byte, error) {
	if size > limit {
		return nil, fmt.Errorf("%d bytes, over the %d the board reads", size, limit)
	}
	f, err := fsys.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("over the %d bytes the board reads", limit)
	}
	return b, nil
}
