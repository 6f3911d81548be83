package datasets

import "github.com/pkg/errors"

// AsSequence returns the image dataset d ([channels, height, width] per
// example) viewed as sequences: one step per image row, each step the
// row's pixels of every channel, [height, channels·width] per example. A
// one-channel dataset shares d's data; others are rearranged into a copy.
func AsSequence(d *Dataset) (*Dataset, error) {
	if len(d.Shape) != 3 {
		return nil, errors.Errorf("dataset %s: examples of shape %v are not images [channels height width]", d.Name, d.Shape)
	}
	c, h, w := d.Shape[0], d.Shape[1], d.Shape[2]
	shape := []int{h, c * w}
	view := func(s *Split) *Split {
		if c == 1 {
			return &Split{X: s.X, Labels: s.Labels, shape: shape, classes: s.classes}
		}
		x := make([]float32, len(s.X))
		size := c * h * w
		for n := 0; n < s.Len(); n++ {
			img, out := s.X[n*size:(n+1)*size], x[n*size:(n+1)*size]
			for ch := 0; ch < c; ch++ {
				for r := 0; r < h; r++ {
					copy(out[r*c*w+ch*w:r*c*w+(ch+1)*w], img[(ch*h+r)*w:(ch*h+r+1)*w])
				}
			}
		}
		return &Split{X: x, Labels: s.Labels, shape: shape, classes: s.classes}
	}
	out := *d
	out.Shape = shape
	out.Train, out.Test = view(d.Train), view(d.Test)
	return &out, nil
}
