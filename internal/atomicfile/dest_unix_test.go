//go:build unix

package atomicfile_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/dlrun/dlrun/internal/atomicfile"
	"github.com/dlrun/dlrun/internal/atomicfile/atomicfiletest"
)

// Every way of writing a file refuses each destination that is not a
// regular file (or a link to one), in one line naming the path and what
// is there, and leaves it as it was; every way of making a folder refuses
// each that is not a folder (or a link to one).
func TestWritersRefuseWhatIsNotARegularFile(t *testing.T) {
	writers := map[string]func(p string) error{
		"WriteFile": func(p string) error { return atomicfile.WriteFile(p, []byte("x"), 0o644) },
		"Create": func(p string) error {
			f, err := atomicfile.Create(p, 0o644)
			if err == nil {
				f.Abort()
			}
			return err
		},
		"Dest": func(p string) error { _, err := atomicfile.Dest(p); return err },
	}
	for _, n := range atomicfiletest.Make(t.TempDir()) {
		for name, write := range writers {
			t.Run(n.Name+"/"+name, func(t *testing.T) {
				if n.Reason != "" {
					t.Skip(n.Reason)
				}
				err := write(n.Path)
				checkRefusal(t, err, n.Path, atomicfile.ErrNotRegular)
				if err := n.Unchanged(); err != nil {
					t.Error(err)
				}
			})
		}
	}
	dir := t.TempDir()
	file, err := atomicfiletest.Regular(dir, "kept")
	if err != nil {
		t.Fatal(err)
	}
	nodes := append(atomicfiletest.Make(t.TempDir()), file)
	for _, n := range nodes {
		t.Run(n.Name+"/MkdirAll", func(t *testing.T) {
			if n.Reason != "" {
				t.Skip(n.Reason)
			}
			made, err := atomicfile.MkdirAll(n.Path, 0o755)
			if n.Folder {
				if err != nil || made != "" {
					t.Errorf("MkdirAll(%s): made %v, %v; want the folder used as it is", n.Name, made, err)
				}
			} else {
				checkRefusal(t, err, n.Path, atomicfile.ErrNotFolder)
				if err := atomicfile.CheckFolder(n.Path); err == nil {
					t.Errorf("CheckFolder(%s) = nil", n.Name)
				}
			}
			if err := n.Unchanged(); err != nil {
				t.Error(err)
			}
		})
	}
	if b, _ := os.ReadFile(file.Path); string(b) != "kept" {
		t.Errorf("the regular file holds %q", b)
	}
}

func checkRefusal(t *testing.T, err error, path string, sentinel error) {
	t.Helper()
	var de *atomicfile.DestError
	switch {
	case err == nil:
		t.Fatalf("%s: accepted", path)
	case !errors.As(err, &de) || !errors.Is(err, sentinel):
		t.Errorf("%s: error %v (%T), want a *DestError wrapping %v", path, err, err, sentinel)
	case !strings.HasPrefix(err.Error(), path+" is ") || strings.Contains(err.Error(), "\n"):
		t.Errorf("error %q: want one line starting with the path", err)
	}
}

// A link that leads, through other links, to a regular file is followed:
// the file is replaced in its own folder and the links stay links.
func TestWriteFileFollowsLinksToARegularFile(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	target := filepath.Join(b, "model.onnx")
	if err := os.WriteFile(target, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	link1, link2 := filepath.Join(a, "one"), filepath.Join(a, "two")
	if err := os.Symlink(target, link1); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("one", link2); err != nil { // relative
		t.Fatal(err)
	}
	if err := atomicfile.WriteFile(link2, []byte("new"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(target); string(got) != "new" {
		t.Errorf("the link's file holds %q", got)
	}
	for _, l := range []string{link1, link2} {
		if fi, err := os.Lstat(l); err != nil || fi.Mode()&os.ModeSymlink == 0 {
			t.Errorf("%s is no longer a link: %v", l, err)
		}
	}
	for _, d := range []string{a, b} {
		if ents, _ := os.ReadDir(d); len(ents) != map[string]int{a: 2, b: 1}[d] {
			t.Errorf("%s holds %d entries", d, len(ents))
		}
	}
}

// What is at the destination is looked at again just before the rename:
// a FIFO put there while a write was under way is refused and kept.
func TestCommitLooksAgain(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "cpu.pprof")
	f, err := atomicfile.Create(p, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write([]byte("profile")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		f.Abort()
		t.Skip("no FIFOs here:", err)
	}
	checkRefusal(t, f.Commit(), p, atomicfile.ErrNotRegular)
	if fi, err := os.Lstat(p); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("the FIFO was replaced: %v %v", fi.Mode(), err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("folder holds %d entries, want the FIFO alone", len(ents))
	}
}

func TestWriteNewKeepsWhatIsThere(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "experiment.json")
	existed, err := atomicfile.WriteNew(p, []byte("first"), 0o644)
	if err != nil || existed {
		t.Fatalf("WriteNew: %v, %v", existed, err)
	}
	existed, err = atomicfile.WriteNew(p, []byte("second"), 0o644)
	if err != nil || !existed {
		t.Fatalf("second WriteNew: %v, %v", existed, err)
	}
	if b, _ := os.ReadFile(p); string(b) != "first" {
		t.Errorf("file holds %q", b)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("folder holds %d entries", len(ents))
	}
}

// MkdirAll returns the topmost folder it made, so that a caller can undo
// it: the new parents too, none of those that were there.
func TestMkdirAllReturnsTheTopmostFolderMade(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct{ path, want string }{
		{filepath.Join(dir, "runs", "cnn-1"), filepath.Join(dir, "runs")},
		{filepath.Join(dir, "runs", "cnn-2"), filepath.Join(dir, "runs", "cnn-2")},
		{filepath.Join(dir, "runs", "cnn-2"), ""},
		{filepath.Join(dir, "a", "b", "c"), filepath.Join(dir, "a")},
	} {
		made, err := atomicfile.MkdirAll(c.path, 0o755)
		if err != nil || made != c.want {
			t.Errorf("MkdirAll(%s) = %q, %v; want %q", c.path, made, err, c.want)
		}
		if fi, err := os.Stat(c.path); err != nil || !fi.IsDir() {
			t.Errorf("%s not made: %v", c.path, err)
		}
	}
}
