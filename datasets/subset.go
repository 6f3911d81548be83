package datasets

import (
	"bytes"
	"encoding/binary"

	"github.com/pkg/errors"
)

// Encode returns the IDX encoding of x (unsigned bytes, big-endian dimensions).
func (x *IDX) Encode() []byte {
	var b bytes.Buffer
	b.Write([]byte{0, 0, 0x08, byte(len(x.Dims))})
	for _, d := range x.Dims {
		binary.Write(&b, binary.BigEndian, uint32(d))
	}
	b.Write(x.Data)
	return b.Bytes()
}

// Subset keeps the first perClass examples of each class, walking the
// source in order; the result keeps source order. This is the selection
// rule of the bundled Fashion-MNIST subset (600 per class from the training
// set, 100 per class from the test set).
func Subset(images, labels *IDX, perClass int) (*IDX, *IDX, error) {
	if len(images.Dims) < 2 || len(labels.Dims) != 1 || images.Dims[0] != labels.Dims[0] {
		return nil, nil, errors.Errorf("subset: images %v and labels %v do not match", images.Dims, labels.Dims)
	}
	size := len(images.Data) / images.Dims[0]
	counts := map[uint8]int{}
	img := &IDX{Dims: append([]int(nil), images.Dims...)}
	lab := &IDX{Dims: []int{0}}
	for i, l := range labels.Data {
		if counts[l] >= perClass {
			continue
		}
		counts[l]++
		img.Data = append(img.Data, images.Data[i*size:(i+1)*size]...)
		lab.Data = append(lab.Data, l)
	}
	for l, n := range counts {
		if n < perClass {
			return nil, nil, errors.Errorf("subset: class %d has only %d examples, want %d", l, n, perClass)
		}
	}
	img.Dims[0], lab.Dims[0] = len(lab.Data), len(lab.Data)
	return img, lab, nil
}
