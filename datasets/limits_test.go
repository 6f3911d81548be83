package datasets

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/internal/allocs"

	"github.com/dlrun/dlrun/internal/safeio"
)

// The limits themselves are too large for fixtures; these tests lower
// them through the readers' limit parameters, or state sizes without the
// bytes behind them, and check that each is enforced before memory is
// reserved.

// A gzip stream that inflates past the text limit fails at the limit.
func TestTextLimit(t *testing.T) {
	path := filepath.Join(fixtureDir, "text-gzip-bomb-1mib.gz")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := allocs.Bytes(func() { _, err = readText(bytesSource(path, b), 0.1, 64<<10) })
	want := path + ": more than the 65536 bytes of text a file may hold, decompressed (MaxTextBytes): too large"
	if err == nil || err.Error() != want || !errors.Is(err, safeio.ErrTooLarge) {
		t.Fatalf("error %v\nwant  %s", err, want)
	}
	if n > 512<<10 {
		t.Errorf("allocated %d bytes under a limit of 64 KiB", n)
	}
	// A plain file over the limit is refused by its size, unread.
	plain := bytes.Repeat([]byte("a"), 100)
	if _, err := readText(bytesSource("big.txt", plain), 0.1, 99); err == nil || !strings.Contains(err.Error(), "big.txt: 100 bytes, more than the 99 this file may hold") {
		t.Fatalf("plain file over the limit: %v", err)
	}
	if _, err := readText(bytesSource("ok.txt", plain), 0.1, 100); err != nil {
		t.Fatalf("plain file at the limit: %v", err)
	}
}

// A text of more distinct characters than MaxTextVocab is refused.
func TestTextVocabLimit(t *testing.T) {
	var b strings.Builder
	for r := rune(0x10000); r < 0x10000+MaxTextVocab+1; r++ { // 4 bytes each
		b.WriteRune(r)
	}
	_, err := NewText("wide", b.String(), 0.1)
	if err == nil || !strings.Contains(err.Error(), "text wide: more than 65536 distinct characters") || !errors.Is(err, safeio.ErrTooLarge) {
		t.Fatalf("error %v", err)
	}
	if _, err := NewText("wide", b.String()[:b.Len()-4], 0.1); err != nil {
		t.Fatalf("a text of exactly MaxTextVocab characters: %v", err)
	}
}

// A ratings file over the limit, gzipped or not, is an error naming it.
func TestRatingsLimit(t *testing.T) {
	dir := filepath.Join(fixtureDir, "ratings-csv-valid-gz")
	open := func(name string) source {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return bytesSource(name, b)
	}
	_, err := readRatings("r", movieLensCSV, open("ratings.csv.gz"), open("movies.csv.gz"), 64)
	if err == nil || !strings.HasPrefix(err.Error(), "ratings.csv.gz:") || !strings.Contains(err.Error(), "more than the 64 bytes a ratings file may hold, decompressed (MaxRatingsBytes)") || !errors.Is(err, safeio.ErrTooLarge) {
		t.Fatalf("gzipped: %v", err)
	}
	b, _ := os.ReadFile(filepath.Join(fixtureDir, "ratings-csv-valid", "ratings.csv"))
	_, err = readRatings("r", movieLensCSV, bytesSource("ratings.csv", b), open("movies.csv.gz"), 64)
	if err == nil || !strings.HasPrefix(err.Error(), "ratings.csv: 84 bytes, more than the 64 this file may hold") {
		t.Fatalf("plain: %v", err)
	}
	if _, err := readRatings("r", movieLensCSV, open("ratings.csv.gz"), open("movies.csv.gz"), 1<<10); err != nil {
		t.Fatal(err)
	}
}

// CIFAR-10 batches of more pixels than MaxSplitBytes are refused by their
// sizes, before anything is read or reserved.
func TestCIFARSplitLimit(t *testing.T) {
	batch := int64(10000 * cifarRecord) // as the real batches
	var srcs []source
	for i := range 40 {
		srcs = append(srcs, source{name: "data_batch_" + string(rune('a'+i)) + ".bin", r: bytes.NewReader(nil), size: batch})
	}
	var err error
	n := allocs.Bytes(func() { _, err = readCIFARSplit(srcs, sha256.New()) })
	if err == nil || !strings.Contains(err.Error(), "more than the 1073741824 bytes of pixels a split may hold (MaxSplitBytes)") || !errors.Is(err, safeio.ErrTooLarge) {
		t.Fatalf("error %v", err)
	}
	if n > 64<<10 {
		t.Errorf("allocated %d bytes", n)
	}
	// A batch that is shorter than it said when read.
	_, err = readCIFARSplit(srcs[:1], sha256.New())
	if err == nil || err.Error() != "data_batch_a.bin: truncated while reading: record 0 of 10000 ends early" {
		t.Fatalf("short read: %v", err)
	}
}
