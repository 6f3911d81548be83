package datasets

import (
	"embed"
	"path"
	"sync"
)

//go:embed data/fashion-mnist/*.gz data/fashion-mnist/COPYRIGHT.debian data/fashion-mnist/SHA256SUMS
//go:embed data/movielens/*.gz data/movielens/COPYRIGHT.debian data/movielens/SHA256SUMS
var bundled embed.FS

// FashionMNISTClasses are the Fashion-MNIST class names in label order.
var FashionMNISTClasses = []string{
	"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
	"Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
}

var fashion struct {
	once sync.Once
	d    *Dataset
	err  error
}

// FashionMNIST returns the bundled Fashion-MNIST subset: 6,000 training
// images (the first 600 of each class in the original training set) and
// 1,000 test images (the first 100 of each class), 1×28×28, scaled to
// [0, 1]. © 2017 Zalando SE, MIT licence (see FashionMNISTLicence). The
// parsed dataset is cached; callers must not modify it.
func FashionMNIST() (*Dataset, error) {
	fashion.once.Do(func() {
		fashion.d, fashion.err = idxDataset("fashion-mnist", func(i int) (source, func(), error) {
			b, err := bundled.ReadFile(path.Join("data/fashion-mnist", idxNames[i]+".gz"))
			return bytesSource("bundled "+idxNames[i]+".gz", b), func() {}, err
		})
		if fashion.err == nil {
			fashion.d.Classes = append([]string(nil), FashionMNISTClasses...)
		}
	})
	return fashion.d, fashion.err
}

// FashionMNISTLicence returns the licence text of the bundled Fashion-MNIST subset.
func FashionMNISTLicence() string {
	b, _ := bundled.ReadFile("data/fashion-mnist/COPYRIGHT.debian")
	return string(b)
}

// BundledFile returns a file of the bundled data, by its path under
// data/ (e.g. "fashion-mnist/SHA256SUMS").
func BundledFile(name string) ([]byte, error) { return bundled.ReadFile(path.Join("data", name)) }

// XOR returns the four XOR points, used as both training and test set:
// inputs (0,0), (0,1), (1,0), (1,1) with labels 0, 1, 1, 0.
func XOR() *Dataset {
	x := []float32{0, 0, 0, 1, 1, 0, 1, 1}
	labels := []int{0, 1, 1, 0}
	s, _ := NewSplit(x, labels, []int{2}, 2)
	return &Dataset{
		Name: "xor", Shape: []int{2}, Classes: []string{"0", "1"}, Train: s, Test: s,
		SHA256: hashFiles([]byte("xor: 0 0 0, 0 1 1, 1 0 1, 1 1 0\n")),
	}
}
