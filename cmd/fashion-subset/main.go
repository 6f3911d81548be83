// Command fashion-subset regenerates dlrun's bundled Fashion-MNIST subset
// from the full data set that Debian's dataset-fashion-mnist package
// installs, and checks the result against the recorded SHA-256 sums.
//
//	apt-get install dataset-fashion-mnist
//	go run ./cmd/fashion-subset                  # check: regenerate in memory, compare sums
//	go run ./cmd/fashion-subset -out datasets/data/fashion-mnist   # also write the files
//
// Selection: walk each source file in order and keep the first 600 (train)
// or 100 (test) examples of each class, keeping source order. The files
// are gzipped at level 9 with no name and mtime 0 by GNU gzip (whose
// deflate output equals zlib 1.2.13's at that level; Go's compress/gzip
// differs), with the header's OS byte set to 255 ("unknown"), as in the
// recorded files.
package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/dlrun/dlrun/datasets"
	"github.com/dlrun/dlrun/internal/atomicfile"
	"github.com/dlrun/dlrun/internal/safeio"
	"github.com/pkg/errors"
)

func main() {
	src := flag.String("src", "/usr/share/datasets/fashion-mnist", "folder of the full Fashion-MNIST IDX files")
	out := flag.String("out", "", "folder to write the subset into (default: check only)")
	sums := flag.String("sums", "", "SHA256SUMS file to check against (default: the bundled one)")
	flag.Parse()
	if err := run(*src, *out, *sums); err != nil {
		fmt.Fprintln(os.Stderr, "fashion-subset:", err)
		os.Exit(1)
	}
}

func run(src, out, sumsPath string) error {
	want, err := readSums(sumsPath)
	if err != nil {
		return err
	}
	files := map[string][]byte{}
	for _, part := range []struct {
		prefix   string
		perClass int
	}{{"train", 600}, {"t10k", 100}} {
		images, err := readIDX(filepath.Join(src, part.prefix+"-images-idx3-ubyte.gz"))
		if err != nil {
			return err
		}
		labels, err := readIDX(filepath.Join(src, part.prefix+"-labels-idx1-ubyte.gz"))
		if err != nil {
			return err
		}
		img, lab, err := datasets.Subset(images, labels, part.perClass)
		if err != nil {
			return err
		}
		for name, x := range map[string]*datasets.IDX{part.prefix + "-images-idx3-ubyte.gz": img, part.prefix + "-labels-idx1-ubyte.gz": lab} {
			if files[name], err = gzip9(x.Encode()); err != nil {
				return errors.Wrapf(err, "compressing %s", name)
			}
		}
	}
	if out != "" {
		if _, err := atomicfile.MkdirAll(out, 0o755); err != nil {
			return err
		}
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	bad := 0
	for _, name := range names {
		b := files[name]
		sum := sha256.Sum256(b)
		got := hex.EncodeToString(sum[:])
		status := "ok"
		if want[name] != got {
			status = "MISMATCH (want " + want[name] + ")"
			bad++
		}
		fmt.Printf("%s  %s  %s\n", got, name, status)
		if out != "" {
			if err := atomicfile.WriteFile(filepath.Join(out, name), b, 0o644); err != nil {
				return err
			}
		}
	}
	if bad > 0 {
		return errors.Errorf("%d files differ from the recorded SHA-256 sums", bad)
	}
	return nil
}

func readIDX(path string) (*datasets.IDX, error) {
	f, err := safeio.Open(path)
	if err != nil {
		return nil, errors.Wrap(err, "opening the source (apt-get install dataset-fashion-mnist)")
	}
	defer f.Close()
	return datasets.ReadIDX(f, path)
}

func readSums(path string) (map[string]string, error) {
	var b []byte
	var err error
	if path == "" {
		b, err = datasets.BundledFile("fashion-mnist/SHA256SUMS")
	} else {
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, errors.Wrap(err, "reading SHA256SUMS")
	}
	sums := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 2 {
			sums[filepath.Base(f[1])] = f[0]
		}
	}
	return sums, nil
}
