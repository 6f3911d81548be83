package datasets

import (
	"os"
	"path/filepath"
	"sort"
	"strings"

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
// records, or with a label outside 0..9, is an error naming the file.
func LoadCIFAR10Dir(dir string) (*Dataset, error) {
	trainFiles, testFile, ok := cifarFiles(dir)
	if !ok {
		return nil, errors.Errorf("%s: no CIFAR-10 binary files (want data_batch_N.bin and test_batch.bin)", dir)
	}
	var raws [][]byte
	read := func(files []string) (*Split, error) {
		var x []float32
		var labels []int
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				return nil, errors.Wrapf(err, "reading %s", f)
			}
			if len(b) == 0 || len(b)%cifarRecord != 0 {
				return nil, errors.Errorf("%s: %d bytes is not a whole number of %d-byte CIFAR-10 records (truncated or not CIFAR-10)", f, len(b), cifarRecord)
			}
			raws = append(raws, b)
			for r := 0; r < len(b); r += cifarRecord {
				l := int(b[r])
				if l >= len(CIFAR10Classes) {
					return nil, errors.Errorf("%s: record %d has label %d (want 0..9)", f, r/cifarRecord, l)
				}
				labels = append(labels, l)
				for _, p := range b[r+1 : r+cifarRecord] {
					x = append(x, float32(p)/255)
				}
			}
		}
		return NewSplit(x, labels, []int{3, 32, 32}, len(CIFAR10Classes))
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
		Train: train, Test: test, SHA256: hashFiles(raws...),
	}, nil
}

func formatsWanted() string {
	return "IDX files (" + strings.Join(idxNames[:], ", ") + ", optionally gzipped) or CIFAR-10 binary batches (data_batch_N.bin, test_batch.bin)"
}
