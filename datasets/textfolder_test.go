package datasets

import (
	"compress/gzip"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/internal/safeio"
)

// writeFiles writes each text to dir/name, making folders.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, text := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestTextDir(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"b.txt":          "second\n",
		"a.txt":          "first", // a line break is added
		"sub/c.TXT":      "third\n",
		"notes.md":       "not a text file: skipped",
		".hidden.txt":    "skipped",
		".git/x.txt":     "skipped",
		"sub/empty.txt":  "",
		"sub/d.txt.gz/x": "a folder named like a file: its .txt-less file skipped",
	})
	var gz strings.Builder
	w := gzip.NewWriter(&gz)
	w.Write([]byte("fourth\n"))
	w.Close()
	writeFiles(t, dir, map[string]string{"z.txt.gz": gz.String()})
	txt, err := LoadTextDir(dir, 0.25)
	if err != nil {
		t.Fatal(err)
	}
	want := "first\nsecond\nthird\nfourth\n"
	got, _ := decodeIDs(txt)
	if got != want {
		t.Fatalf("text %q, want %q", got, want)
	}
	if len(txt.HeldOut) != len(want)/4 || txt.Name != dir || strings.Join(txt.Vocab, "") != "\ncdefhinorstu" {
		t.Fatalf("held out %d, name %s, vocabulary %q", len(txt.HeldOut), txt.Name, strings.Join(txt.Vocab, ""))
	}
	same, _ := NewText("x", want, 0.25)
	if txt.SHA256 != same.SHA256 {
		t.Fatal("the hash is not over the joined text")
	}
}

// decodeIDs turns a text's ids back into its characters.
func decodeIDs(t *Text) (string, error) {
	var b strings.Builder
	for _, ids := range [][]int{t.Train, t.HeldOut} {
		for _, id := range ids {
			b.WriteString(t.Vocab[id])
		}
	}
	return b.String(), nil
}

func TestTextDirHostile(t *testing.T) {
	check := func(err error, at, want string) {
		t.Helper()
		if err == nil || !strings.Contains(err.Error(), at) || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
			t.Fatalf("error %v, want one line naming %s and saying %q", err, at, want)
		}
	}
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"a.md": "x"})
	_, err := LoadTextDir(dir, 0.1)
	check(err, dir, "no .txt files")
	writeFiles(t, dir, map[string]string{"a.txt": "good\n", "b.txt": "line one\nline \xff two\n"})
	_, err = LoadTextDir(dir, 0.1)
	check(err, filepath.Join(dir, "b.txt")+":2", "not UTF-8 text (byte 0xff at offset 14)")
	os.Remove(filepath.Join(dir, "b.txt"))
	writeFiles(t, dir, map[string]string{"b.txt": strings.Repeat("y", 100)})
	_, err = readTextDir(dir, 0.1, 64)
	check(err, dir, "its texts hold more than the 64 bytes a text may, decompressed (MaxTextBytes), "+filepath.Join(dir, "b.txt")+" among them")
	if !errors.Is(err, safeio.ErrTooLarge) {
		t.Fatal("not ErrTooLarge")
	}
	_, err = LoadTextDir(filepath.Join(dir, "a.txt"), 0.1)
	check(err, "a.txt", "not a folder")
}
