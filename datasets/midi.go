package datasets

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/dlrun/dlrun/internal/safeio"
	"github.com/dlrun/dlrun/music"
	"github.com/pkg/errors"
)

// LoadMIDIDir reads a music dataset from the Standard MIDI Files (types 0
// and 1, named *.mid or *.midi, any case) in dir and the folders below it,
// hidden files and folders (names starting with '.') left out. Each file
// is one piece, quantised to grid g (zero means music.Quarter) as
// music.Song.Roll does, its drums (channel 10) left out; notes outside
// the piano's 88 keys are left out and counted in OutOfRange. A piece is
// named by its path below dir, with '/' separators.
//
// The split is by file and depends only on the files' paths below dir:
// the files are ordered by the SHA-256 of their path, and the first tenth
// (rounded half up, at least one file) is the test set, the next tenth
// the validation set, and the rest the training set; each set keeps the
// files in path order. So a folder needs at least 3 files.
//
// A file that is not a well-formed MIDI file, is of type 2, holds no note
// on the piano's keys, or passes one of the music package's limits is a
// one-line error naming it; so is a folder of more than MaxMIDIFiles files
// or MaxMusicSteps steps. SHA256 is over the files' paths and contents, in
// path order.
func LoadMIDIDir(dir string, g music.Grid) (*Music, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, errors.Wrap(err, "MIDI folder")
	}
	if !st.IsDir() {
		return nil, errors.Errorf("MIDI folder %s: not a folder", dir)
	}
	if err := g.Check(); err != nil {
		return nil, fmt.Errorf("MIDI folder %s: %w", dir, err)
	}
	var rels []string
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if path != dir && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() || !isMIDIName(d.Name()) {
			return nil
		}
		if len(rels) == MaxMIDIFiles {
			return fmt.Errorf("MIDI folder %s: more than the %d files a music dataset may hold (MaxMIDIFiles): %w", dir, MaxMIDIFiles, safeio.ErrTooLarge)
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		rels = append(rels, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(rels) < 3 {
		return nil, errors.Errorf("MIDI folder %s: %d MIDI files (*.mid, *.midi); a music dataset needs at least 3, one each for training, validation and test", dir, len(rels))
	}
	slices.Sort(rels)

	m := &Music{Name: dir, Grid: g.Or()}
	h := sha256.New()
	pieces := make(map[string]*music.Roll, len(rels))
	steps := 0
	for _, rel := range rels {
		path := filepath.Join(dir, filepath.FromSlash(rel))
		r, outside, err := readMIDIPiece(path, rel, m.Grid, h)
		if err != nil {
			return nil, err
		}
		if steps += len(r.Steps); steps > MaxMusicSteps {
			return nil, fmt.Errorf("MIDI folder %s: more than the %d steps a music dataset may hold (MaxMusicSteps): %w", dir, MaxMusicSteps, safeio.ErrTooLarge)
		}
		pieces[rel] = r
		m.OutOfRange += outside
	}
	m.SHA256 = hex.EncodeToString(h.Sum(nil))

	byHash := slices.Clone(rels)
	key := func(rel string) []byte { s := sha256.Sum256([]byte(rel)); return s[:] }
	slices.SortFunc(byHash, func(a, b string) int { return bytes.Compare(key(a), key(b)) })
	held := max(1, (len(rels)+5)/10)
	split := make(map[string]*[]Piece, len(rels))
	for i, rel := range byHash {
		switch {
		case i < held:
			split[rel] = &m.Test
		case i < 2*held:
			split[rel] = &m.Valid
		default:
			split[rel] = &m.Train
		}
	}
	for _, rel := range rels {
		*split[rel] = append(*split[rel], Piece{Name: rel, Roll: pieces[rel]})
	}
	return m, nil
}

// readMIDIPiece reads the MIDI file at path, named rel below its folder,
// quantised to grid g, adding its name and content to h.
func readMIDIPiece(path, rel string, g music.Grid, h io.Writer) (*music.Roll, int, error) {
	f, err := safeio.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	io.WriteString(h, rel)
	h.Write([]byte{0})
	s, err := music.Read(path, io.TeeReader(f, h))
	if err != nil {
		return nil, 0, err
	}
	r, outside, err := s.Roll(g)
	if err != nil {
		return nil, 0, err
	}
	for _, st := range r.Steps {
		if st.Len() > 0 {
			return r, outside, nil
		}
	}
	return nil, 0, errors.Errorf("%s: no notes on the piano's 88 keys (drums on channel 10 are left out)", path)
}

// isMIDIName reports whether a file name ends in .mid or .midi, any case.
func isMIDIName(name string) bool {
	ext := strings.ToLower(filepath.Ext(name))
	return ext == ".mid" || ext == ".midi"
}
