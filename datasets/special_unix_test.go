//go:build unix

package datasets_test

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dlrun/dlrun/datasets"
)

// Every reader refuses a FIFO (which would block) and a symbolic link to
// /dev/zero (which never ends) with a one-line error naming the file,
// without blocking or reading.
func TestReadersRefuseSpecialFiles(t *testing.T) {
	special := map[string]func(path string) error{
		"FIFO": func(path string) error { return syscall.Mkfifo(path, 0o600) },
		"link to /dev/zero": func(path string) error {
			return os.Symlink("/dev/zero", path)
		},
	}
	cases := []struct {
		name, base, file string
		load             func(dir, path string) error
	}{
		{"IDX images", "idx-valid", "train-images-idx3-ubyte", func(dir, _ string) error { _, err := datasets.Load(dir); return err }},
		{"IDX labels", "idx-valid", "t10k-labels-idx1-ubyte", func(dir, _ string) error { _, err := datasets.Load(dir); return err }},
		{"classes.txt", "idx-valid", "classes.txt", func(dir, _ string) error { _, err := datasets.Load(dir); return err }},
		{"CIFAR-10 batch", "cifar-valid", "test_batch.bin", func(dir, _ string) error { _, err := datasets.Load(dir); return err }},
		{"ratings.csv", "ratings-csv-valid", "ratings.csv", func(dir, _ string) error { _, err := datasets.LoadRatingsDir(dir); return err }},
		{"movies.csv", "ratings-csv-valid", "movies.csv", func(dir, _ string) error { _, err := datasets.LoadRatingsDir(dir); return err }},
		{"u.data", "ml-100k-valid", "u.data", func(dir, _ string) error { _, err := datasets.LoadRatingsDir(dir); return err }},
		{"u.item", "ml-100k-valid", "u.item", func(dir, _ string) error { _, err := datasets.LoadRatingsDir(dir); return err }},
		{"text", "", "text.txt", func(_, path string) error { _, err := datasets.LoadTextFile(path, 0.1); return err }},
		{"image", "", "image.png", func(_, path string) error { _, err := datasets.ReadImage(path, []int{1, 8, 8}, false); return err }},
		{"table", "", "table.csv", func(_, path string) error {
			_, err := datasets.LoadTable(path, datasets.TableOptions{Target: "y"})
			return err
		}},
	}
	for _, c := range cases {
		for kind, mk := range special {
			t.Run(c.name+" "+kind, func(t *testing.T) {
				dir := t.TempDir()
				if c.base != "" {
					dir = copyFixtureDir(t, c.base)
				}
				path := filepath.Join(dir, c.file)
				os.Remove(path)
				if err := mk(path); err != nil {
					t.Skip("cannot make one here:", err)
				}
				done := make(chan error, 1)
				go func() { done <- c.load(dir, path) }()
				select {
				case err := <-done:
					want := "not a regular file"
					if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
						t.Fatalf("error %v, want one line naming %s and saying %q", err, path, want)
					}
				case <-time.After(10 * time.Second):
					t.Fatalf("%s: the reader blocked", path)
				}
			})
		}
	}
}

// An image folder refuses a FIFO or a link to /dev/zero named like an
// image with a one-line error naming it, without blocking.
func TestImageFolderRefusesSpecialFiles(t *testing.T) {
	for kind, mk := range map[string]func(path string) error{
		"FIFO":              func(path string) error { return syscall.Mkfifo(path, 0o600) },
		"link to /dev/zero": func(path string) error { return os.Symlink("/dev/zero", path) },
	} {
		t.Run(kind, func(t *testing.T) {
			dir := t.TempDir()
			grayFolder(t, dir, 2, "a", "b")
			path := filepath.Join(dir, "a", "special.png")
			if err := mk(path); err != nil {
				t.Skip("cannot make one here:", err)
			}
			done := make(chan error, 1)
			go func() { _, err := datasets.OpenImageFolder(dir, datasets.ImageFolderOptions{}); done <- err }()
			select {
			case err := <-done:
				checkOneLineError(t, err, path, "not a regular file")
			case <-time.After(10 * time.Second):
				t.Fatalf("%s: the reader blocked", path)
			}
		})
	}
}
