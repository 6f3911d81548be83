package datasets

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/dlrun/dlrun/internal/safeio"
	"github.com/pkg/errors"
)

// LoadTextDir reads the text files of a folder as one character dataset
// named dir, with the last heldOut fraction held out (NewText): the .txt
// files (and gzipped .txt.gz ones) anywhere under dir, in the order of
// their paths, each followed by a line break unless it ends with one.
// Files and folders whose names begin with a dot are skipped, as are
// other files. The vocabulary is the texts' distinct characters, sorted
// (at most MaxTextVocab); a run records it. Every file must be a regular
// file of UTF-8 text, and the texts together at most MaxTextBytes,
// decompressed; anything else is a one-line error naming the file (and,
// for a byte that is not UTF-8, its line). SHA256 is over the joined
// text.
func LoadTextDir(dir string, heldOut float64) (*Text, error) {
	return readTextDir(dir, heldOut, MaxTextBytes)
}

// readTextDir is LoadTextDir with a limit on the joined text.
func readTextDir(dir string, heldOut float64, limit int64) (*Text, error) {
	if st, err := os.Stat(dir); err != nil {
		return nil, errors.Wrap(err, "text folder")
	} else if !st.IsDir() {
		return nil, errors.Errorf("text folder %s: not a folder", dir)
	}
	var paths []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case path != dir && hidden(d.Name()) && d.IsDir():
			return filepath.SkipDir
		case d.IsDir() || hidden(d.Name()):
			return nil
		}
		name := strings.ToLower(d.Name())
		if !strings.HasSuffix(name, ".txt") && !strings.HasSuffix(name, ".txt.gz") {
			return nil
		}
		if len(paths) == MaxTextFiles {
			return fmt.Errorf("text folder %s: more than the %d text files a folder may hold (MaxTextFiles): %w", dir, MaxTextFiles, safeio.ErrTooLarge)
		}
		paths = append(paths, path)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		return nil, errors.Errorf("text folder %s: no .txt files", dir)
	}
	var b strings.Builder
	for _, p := range paths {
		left := limit - int64(b.Len())
		s, done, err := openSource(p)
		if err != nil {
			return nil, err
		}
		text, err := readTextString(s, left)
		done()
		if errors.Is(err, safeio.ErrTooLarge) {
			return nil, fmt.Errorf("text folder %s: its texts hold more than the %d bytes a text may, decompressed (MaxTextBytes), %s among them: %w", dir, limit, p, safeio.ErrTooLarge)
		}
		if err != nil {
			return nil, err
		}
		b.WriteString(text)
		if text != "" && !strings.HasSuffix(text, "\n") {
			b.WriteByte('\n')
		}
	}
	return NewText(dir, b.String(), heldOut)
}
