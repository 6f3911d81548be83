package datasets

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"slices"

	"github.com/pkg/errors"
)

// ReadTable reads every row of the CSV table at path as p encodes them,
// the target column included (in any order among the others): the rows
// a model trained with p is evaluated on, beside the held-out rows of its
// own table. It returns them as one split, and the hex SHA-256 of the
// file as stored. Errors name the file, row and column, as LoadTable's.
func (p *Preprocessing) ReadTable(path string) (*TableSplit, string, error) {
	if err := p.Check(); err != nil {
		return nil, "", err
	}
	h := sha256.New()
	s := p.newSplit()
	open := func() (source, func(), error) { return openSource(path) }
	if err := p.encodeFile(open, MaxTableBytes, h, func(int) *TableSplit { return s }); err != nil {
		return nil, "", err
	}
	if s.Len() == 0 {
		return nil, "", errors.Errorf("%s: a header and no rows", path)
	}
	return s, hex.EncodeToString(h.Sum(nil)), nil
}

// EachRows reads the CSV table at path (RFC 4180, gzipped or not, at most
// MaxTableBytes decompressed) to predict on: rows of the columns p reads,
// in any order and with or without the target and other columns. It calls
// each with the header and with at most chunk rows at a time (their
// fields as read, and the model inputs p makes of them, Width values per
// row), so that memory stays that of one chunk. A malformed row is an
// error naming the file, row and column, and stops the reading. The
// slices each is given are reused for the next chunk: it must not keep
// them.
func (p *Preprocessing) EachRows(path string, chunk int, each func(header []string, records [][]string, x []float32) error) error {
	if err := p.Check(); err != nil {
		return err
	}
	if chunk < 1 {
		return errors.Errorf("chunk %d: must be positive", chunk)
	}
	f, err := openTable(func() (source, func(), error) { return openSource(path) }, MaxTableBytes, nil)
	if err != nil {
		return err
	}
	defer f.close()
	enc, err := p.Encoder(f.header)
	if err != nil {
		return errors.Wrap(err, f.name)
	}
	w := p.Width()
	var recs [][]string
	x := make([]float32, 0, chunk*w)
	flush := func() error {
		if len(recs) == 0 {
			return nil
		}
		err := each(f.header, recs, x)
		recs, x = recs[:0], x[:0]
		return err
	}
	for {
		rec, err := f.nextRow()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		n := len(x)
		x = x[:n+w]
		if err := enc.Encode(rec, x[n:]); err != nil {
			return f.errorf("row %d, %v", f.row, err)
		}
		recs = append(recs, slices.Clone(rec)) // the reader reuses rec
		if len(recs) == chunk {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if f.row == 0 {
		return errors.Errorf("%s: a header and no rows", f.name)
	}
	return flush()
}
