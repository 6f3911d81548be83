//go:build unix

package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/internal/atomicfile/atomicfiletest"
)

// Every path dlrun writes follows the one rule (internal/atomicfile): each
// writer, given a device, a FIFO, a socket, a folder or a link to one of
// them or to nothing, refuses it in one line naming its flag and the path,
// and leaves it as it was; a writer of folders refuses a regular file too.
func TestEveryWriterRefusesWhatIsNotARegularFile(t *testing.T) {
	trained := filepath.Join(t.TempDir(), "xor")
	if _, err := dlrun(t, "train", "--model", "xor", "--epochs", "1", "--out", trained); err != nil {
		t.Fatal(err)
	}
	exp := filepath.Join("..", "..", "testdata", "cli", "xor-one-epoch.yaml")
	files := map[string]struct {
		flag string
		args func(p string) []string
	}{
		"export -o": {"--out", func(p string) []string { return []string{"export", "--run", trained, "-o", p} }},
		"train --cpuprofile": {"--cpuprofile", func(p string) []string {
			return []string{"train", "--model", "xor", "--epochs", "1", "--out", t.TempDir(), "--cpuprofile", p}
		}},
		"train --memprofile": {"--memprofile", func(p string) []string {
			return []string{"train", "--model", "xor", "--epochs", "1", "--out", t.TempDir(), "--memprofile", p}
		}},
		"resume --cpuprofile": {"--cpuprofile", func(p string) []string { return []string{"train", "--resume", trained, "--cpuprofile", p} }},
		"run --memprofile":    {"--memprofile", func(p string) []string { return []string{"run", exp, "--out", t.TempDir(), "--memprofile", p} }},
	}
	for _, n := range atomicfiletest.Make(t.TempDir()) {
		for name, w := range files {
			t.Run(name+"/"+n.Name, func(t *testing.T) {
				if n.Reason != "" {
					t.Skip(n.Reason)
				}
				_, err := dlrun(t, w.args(n.Path)...)
				oneLineError(t, name+" "+n.Name, err, w.flag+": "+n.Path+" is ")
				if err := n.Unchanged(); err != nil {
					t.Error(err)
				}
			})
		}
	}

	folders := map[string]func(p string) []string{
		"train --out": func(p string) []string { return []string{"train", "--model", "xor", "--epochs", "1", "--out", p} },
		"run --out":   func(p string) []string { return []string{"run", exp, "--out", p} },
		"explain -o":  func(p string) []string { return []string{"explain", "--run", trained, "0,1", "-o", p} },
	}
	file, err := atomicfiletest.Regular(t.TempDir(), "kept")
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range append(atomicfiletest.Make(t.TempDir()), file) {
		if n.Folder {
			continue
		}
		for name, args := range folders {
			t.Run(name+"/"+n.Name, func(t *testing.T) {
				if n.Reason != "" {
					t.Skip(n.Reason)
				}
				_, err := dlrun(t, args(n.Path)...)
				oneLineError(t, name+" "+n.Name, err, "--out: "+n.Path+" is ")
				if err := n.Unchanged(); err != nil {
					t.Error(err)
				}
			})
		}
	}
}

// explain -o page.html writes one file: a page, whose name ends in
// .html, that is a link to a hostile destination is refused, and the
// destination left as it was.
func TestExplainPageRefusesWhatIsNotARegularFile(t *testing.T) {
	trained := filepath.Join(t.TempDir(), "xor")
	if _, err := dlrun(t, "train", "--model", "xor", "--epochs", "1", "--out", trained); err != nil {
		t.Fatal(err)
	}
	links := t.TempDir()
	for i, n := range atomicfiletest.Make(t.TempDir()) {
		t.Run(n.Name, func(t *testing.T) {
			if n.Reason != "" {
				t.Skip(n.Reason)
			}
			page := filepath.Join(links, strconv.Itoa(i)+".html")
			if err := os.Symlink(n.Path, page); err != nil {
				t.Fatal(err)
			}
			_, err := dlrun(t, "explain", "--run", trained, "0,1", "-o", page)
			oneLineError(t, "explain -o "+n.Name, err, "--out: "+page+" is a symbolic link to ")
			if err := n.Unchanged(); err != nil {
				t.Error(err)
			}
		})
	}
}

// The files of a run folder follow the rule too: a resumed run whose
// metrics.csv is a link to a FIFO stops with an error naming it, and the
// FIFO is left as it was. The check of the folder that resuming makes
// first refuses a link to what is not a regular file, and a link loop;
// the writer refuses a link to nothing.
func TestResumeRefusesARunFileThatIsNotRegular(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "xor")
	if _, err := dlrun(t, "train", "--model", "xor", "--epochs", "1", "--out", dir); err != nil {
		t.Fatal(err)
	}
	for _, n := range atomicfiletest.Make(t.TempDir()) {
		if n.Reason != "" || n.Folder {
			continue
		}
		metrics := filepath.Join(dir, "metrics.csv")
		os.Remove(metrics)
		if err := os.Symlink(n.Path, metrics); err != nil {
			t.Fatal(err)
		}
		_, err := dlrun(t, "train", "--resume", dir, "--epochs", "2")
		target := n.Name
		for strings.HasPrefix(target, "link to a ") {
			target = strings.TrimPrefix(target, "link to a ")
		}
		want := metrics + ": not a regular file (a " + target + ")"
		switch n.Name {
		case "link to nothing":
			want = metrics + " is a symbolic link to "
		case "link loop":
			want = metrics + ": stat metrics.csv: too many levels of symbolic links"
		}
		oneLineError(t, "resume with metrics.csv a link to a "+n.Name, err, want)
		if err := n.Unchanged(); err != nil {
			t.Error(err)
		}
	}
}

// A training refused for the memory it would need leaves nothing behind:
// not its run folder, nor the runs/ folder made for it.
func TestRefusedTrainingLeavesNoFolder(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if err := os.WriteFile("huge.yaml", []byte("name: huge\nlayers: [{flatten: {}}, {dense: {units: 50000000}}, {dense: {units: 10}}]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := dlrun(t, "train", "--model", "huge.yaml", "--epochs", "1")
	oneLineError(t, "a model of 39 billion parameters", err, "model huge: training needs about", "make the model smaller")
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		t.Errorf("the folder holds %v, want huge.yaml alone", names)
	}
}
