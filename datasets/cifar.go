package datasets

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/dlrun/dlrun/internal/safeio"
	"github.com/pkg/errors"
)

// CIFAR10Classes are the CIFAR-10 class names in label order.
var CIFAR10Classes = []string{"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"}

const cifarRecord = 1 + 3*32*32

// cifarFiles returns the training batches (data_batch_N.bin, by N) and the
// test batch of a CIFAR-10 binary folder, looking also in a
// cifar-10-batches-bin subfolder as the official archive unpacks.
func cifarFiles(dir string) (train []string, test string, ok bool) {
	for _, d := range []string{dir, filepath.Join(dir, "cifar-10-batches-bin")} {
		train, _ = filepath.Glob(filepath.Join(d, "data_batch_*.bin"))
		test = filepath.Join(d, "test_batch.bin")
		if _, err := os.Stat(test); err == nil && len(train) > 0 {
			sort.Strings(train)
			return train, test, true
		}
	}
	return nil, "", false
}

// LoadCIFAR10Dir reads CIFAR-10 in its binary format from dir: the
// training batches data_batch_1.bin … data_batch_5.bin (any that are there)
// and test_batch.bin, each a sequence of records of one label byte and
// 3,072 pixel bytes (the red, green and blue 32×32 planes). Images are
// [3 32 32], scaled to [0, 1]. A file whose size is not a whole number of
// records, or with a label outside 0..9, is an error naming the file, as
// is one that is not a regular file. A split's batches may hold at most
// MaxSplitBytes together; they are read straight into the float32
// examples.
func LoadCIFAR10Dir(dir string) (*Dataset, error) {
	trainFiles, testFile, ok := cifarFiles(dir)
	if !ok {
		return nil, errors.Errorf("%s: no CIFAR-10 binary files (want data_batch_N.bin and test_batch.bin)", dir)
	}
	h := sha256.New()
	read := func(paths []string) (*Split, error) {
		var srcs []source
		for _, p := range paths {
			s, done, err := openSource(p)
			if err != nil {
				return nil, err
			}
			defer done()
			srcs = append(srcs, s)
		}
		return readCIFARSplit(srcs, h)
	}
	train, err := read(trainFiles)
	if err != nil {
		return nil, err
	}
	test, err := read([]string{testFile})
	if err != nil {
		return nil, err
	}
	return &Dataset{
		Name: dir, Shape: []int{3, 32, 32}, Classes: append([]string(nil), CIFAR10Classes...),
		Train: train, Test: test, SHA256: hex.EncodeToString(h.Sum(nil)),
	}, nil
}

// readCIFARSplit reads the CIFAR-10 batches srcs, whose sizes are known,
// as one split, feeding their bytes to h in order. The sizes are checked
// before anything is read or reserved.
func readCIFARSplit(srcs []source, h hash.Hash) (*Split, error) {
	records := int64(0)
	for _, s := range srcs {
		if s.size <= 0 || s.size%cifarRecord != 0 {
			return nil, errors.Errorf("%s: %d bytes is not a whole number of %d-byte CIFAR-10 records (truncated or not CIFAR-10)", s.name, s.size, cifarRecord)
		}
		records += s.size / cifarRecord
		if records*(cifarRecord-1) > MaxSplitBytes {
			return nil, fmt.Errorf("%s: the batches of this split hold more than the %d bytes of pixels a split may hold (MaxSplitBytes): %w", s.name, MaxSplitBytes, safeio.ErrTooLarge)
		}
	}
	x := make([]float32, 0, records*(cifarRecord-1))
	labels := make([]int, 0, records)
	rec := make([]byte, cifarRecord)
	for _, s := range srcs {
		r := io.TeeReader(s.r, h)
		for n := int64(0); n < s.size/cifarRecord; n++ {
			if _, err := io.ReadFull(r, rec); err != nil {
				if err == io.EOF || err == io.ErrUnexpectedEOF {
					return nil, errors.Errorf("%s: truncated while reading: record %d of %d ends early", s.name, n, s.size/cifarRecord)
				}
				return nil, errors.Errorf("%s: %v", s.name, err)
			}
			l := int(rec[0])
			if l >= len(CIFAR10Classes) {
				return nil, errors.Errorf("%s: record %d has label %d (want 0..9)", s.name, n, l)
			}
			labels = append(labels, l)
			for _, p := range rec[1:] {
				x = append(x, pixelScale[p])
			}
		}
		if k, _ := io.ReadFull(r, rec[:1]); k > 0 {
			return nil, errors.Errorf("%s: grew while being read (more than %d bytes)", s.name, s.size)
		}
	}
	return NewSplit(x, labels, []int{3, 32, 32}, len(CIFAR10Classes))
}

func formatsWanted() string {
	return "IDX files (" + strings.Join(idxNames[:], ", ") + ", optionally gzipped) or CIFAR-10 binary batches (data_batch_N.bin, test_batch.bin)"
}
