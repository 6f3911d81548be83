package datasets

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/dlrun/dlrun/internal/safeio"
	"github.com/pkg/errors"
)

//go:embed data/austen/prideprejudice.txt.gz data/austen/COPYRIGHT.debian data/austen/SHA256SUMS
var austen embed.FS

// Text is a character-level text dataset: the text as token ids over a
// vocabulary of its distinct characters, split into a training head and a
// held-out tail.
type Text struct {
	Name    string
	Vocab   []string // the characters in id order: sorted by code point
	Train   []int    // token ids of the training head
	HeldOut []int    // token ids of the held-out tail
	SHA256  string
}

// NewText builds a character dataset from text, holding out the last
// heldOut fraction (0 < heldOut < 1). The vocabulary is the sorted set of
// its characters, so the ids do not depend on the text's order; it may
// hold at most MaxTextVocab characters. SHA256 is over the text.
func NewText(name, text string, heldOut float64) (*Text, error) {
	if !(heldOut > 0 && heldOut < 1) {
		return nil, errors.Errorf("text %s: held-out fraction %g must be in (0, 1)", name, heldOut)
	}
	n := utf8.RuneCountInString(text)
	if n < 2 {
		return nil, errors.Errorf("text %s: too short: a text needs at least 2 characters, it has %d", name, n)
	}
	ids := map[rune]int{}
	for _, r := range text {
		if _, ok := ids[r]; !ok {
			if len(ids) == MaxTextVocab {
				return nil, fmt.Errorf("text %s: more than %d distinct characters, the most a character vocabulary may hold (MaxTextVocab): %w", name, MaxTextVocab, safeio.ErrTooLarge)
			}
			ids[r] = 0
		}
	}
	chars := slices.Sorted(maps.Keys(ids))
	vocab := make([]string, len(chars))
	for i, r := range chars {
		ids[r] = i
		vocab[i] = string(r)
	}
	all := make([]int, 0, n)
	for _, r := range text {
		all = append(all, ids[r])
	}
	h := sha256.New()
	for len(text) > 0 {
		k := min(len(text), 64<<10)
		io.WriteString(h, text[:k])
		text = text[k:]
	}
	cut := len(all) - int(float64(len(all))*heldOut)
	return &Text{Name: name, Vocab: vocab, Train: all[:cut], HeldOut: all[cut:], SHA256: hex.EncodeToString(h.Sum(nil))}, nil
}

// LoadTextFile reads the text file at path as a character dataset with
// the last heldOut fraction held out (NewText), named path. The file may
// be gzipped (recognised by its magic bytes); it must be a regular file
// holding at most MaxTextBytes of UTF-8 text, after decompression.
// Anything else is a one-line error naming the file (and, for a byte that
// is not UTF-8, its line). SHA256 is over the text, decompressed.
func LoadTextFile(path string, heldOut float64) (*Text, error) {
	s, done, err := openSource(path)
	if err != nil {
		return nil, err
	}
	defer done()
	return readText(s, heldOut, MaxTextBytes)
}

// readText reads the text of s, at most limit bytes after decompression,
// as a dataset named for s.
func readText(s source, heldOut float64, limit int64) (*Text, error) {
	text, err := readTextString(s, limit)
	if err != nil {
		return nil, err
	}
	return NewText(s.name, text, heldOut)
}

// readTextString reads the UTF-8 text of s, at most limit bytes after
// decompression.
func readTextString(s source, limit int64) (string, error) {
	u, err := unpack(s, limit)
	if err != nil {
		return "", err
	}
	defer u.Close()
	var b strings.Builder
	if !u.gzipped && s.size > 0 {
		b.Grow(int(s.size))
	}
	if _, err := io.Copy(&b, u); err != nil {
		switch {
		case errors.Is(err, safeio.ErrTooLarge):
			return "", fmt.Errorf("%s: more than the %d bytes of text a file may hold, decompressed (MaxTextBytes): %w", s.name, limit, safeio.ErrTooLarge)
		case u.gzipped && err == io.ErrUnexpectedEOF:
			return "", errors.Errorf("%s: truncated: the gzip stream ends early, after %d bytes of text", s.name, b.Len())
		case u.gzipped:
			return "", errors.Errorf("%s: corrupt gzip stream (%v)", s.name, err)
		}
		return "", errors.Errorf("%s: %v", s.name, err)
	}
	text := b.String()
	if !utf8.ValidString(text) {
		at := 0
		for at < len(text) {
			r, size := utf8.DecodeRuneInString(text[at:])
			if r == utf8.RuneError && size == 1 {
				break
			}
			at += size
		}
		line := 1 + strings.Count(text[:at], "\n")
		return "", errors.Errorf("%s:%d: not UTF-8 text (byte 0x%02x at offset %d)", s.name, line, text[at], at)
	}
	return text, nil
}

// Encode turns s into ids of vocab; a character outside it is an error.
func Encode(vocab []string, s string) ([]int, error) {
	ids := map[string]int{}
	for i, v := range vocab {
		ids[v] = i
	}
	out := make([]int, 0, len(s))
	for _, r := range s {
		id, ok := ids[string(r)]
		if !ok {
			return nil, errors.Errorf("character %q is not in the vocabulary", r)
		}
		out = append(out, id)
	}
	return out, nil
}

var prideText struct {
	once sync.Once
	t    *Text
	err  error
}

// PrideAndPrejudice returns the bundled text of Jane Austen's Pride and
// Prejudice (public domain; packaging MIT, © 2016-2017 Julia Silge, see
// AustenLicence), 684,768 characters, with its last 10% held out.
func PrideAndPrejudice() (*Text, error) {
	prideText.once.Do(func() {
		b, err := austen.ReadFile("data/austen/prideprejudice.txt.gz")
		if err != nil {
			prideText.err = err
			return
		}
		text, err := readTextString(bytesSource("bundled prideprejudice.txt.gz", b), MaxTextBytes)
		if err != nil {
			prideText.err = err
			return
		}
		prideText.t, prideText.err = NewText("pride-and-prejudice", text, 0.1)
	})
	return prideText.t, prideText.err
}

// AustenLicence returns the licence text of the bundled novel.
func AustenLicence() string {
	b, _ := austen.ReadFile("data/austen/COPYRIGHT.debian")
	return string(b)
}
