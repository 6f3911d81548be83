package datasets

import (
	"bytes"
	"compress/gzip"
	"embed"
	"io"
	"sort"
	"sync"

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
// its characters, so the ids do not depend on the text's order.
func NewText(name, text string, heldOut float64) (*Text, error) {
	if !(heldOut > 0 && heldOut < 1) {
		return nil, errors.Errorf("text %s: held-out fraction %g must be in (0, 1)", name, heldOut)
	}
	runes := []rune(text)
	if len(runes) < 2 {
		return nil, errors.Errorf("text %s: %d characters is too short", name, len(runes))
	}
	set := map[rune]bool{}
	for _, r := range runes {
		set[r] = true
	}
	chars := make([]rune, 0, len(set))
	for r := range set {
		chars = append(chars, r)
	}
	sort.Slice(chars, func(i, j int) bool { return chars[i] < chars[j] })
	ids := map[rune]int{}
	vocab := make([]string, len(chars))
	for i, r := range chars {
		ids[r] = i
		vocab[i] = string(r)
	}
	all := make([]int, len(runes))
	for i, r := range runes {
		all[i] = ids[r]
	}
	cut := len(all) - int(float64(len(all))*heldOut)
	return &Text{Name: name, Vocab: vocab, Train: all[:cut], HeldOut: all[cut:], SHA256: hashFiles([]byte(text))}, nil
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
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			prideText.err = errors.Wrap(err, "bundled prideprejudice.txt.gz")
			return
		}
		raw, err := io.ReadAll(zr)
		if err != nil {
			prideText.err = errors.Wrap(err, "bundled prideprejudice.txt.gz")
			return
		}
		prideText.t, prideText.err = NewText("pride-and-prejudice", string(raw), 0.1)
	})
	return prideText.t, prideText.err
}

// AustenLicence returns the licence text of the bundled novel.
func AustenLicence() string {
	b, _ := austen.ReadFile("data/austen/COPYRIGHT.debian")
	return string(b)
}
