package nn

import "github.com/pkg/errors"

// ShotNet returns the shot-boundary detector of the reference model shots
// for windows of frames in, [frames, 3, h, w] (values from 0 to 1), with
// outputs logits per frame: each frame's 12 computed change signals
// (FrameChanges) beside 32 features it learns from the frame's pixels
// (dense 32 ReLU over the flattened frame), joined per frame; then three
// convolutions over time, 48 filters of 9 frames each with ReLU, which
// compare the features of neighbouring frames (each frame's logits see
// 12 frames on either side, as TransNetV2's dilated convolutions see a
// stretch of frames); then a dense layer to the logits.
func ShotNet(in []int, outputs int) (*Sequential, error) {
	if len(in) != 4 || in[1] != 3 || in[0] < 1 || in[2] < 1 || in[3] < 1 {
		return nil, errors.Errorf("shots: input %v: want windows of RGB frames [frames, 3, height, width]", in)
	}
	changes := NewFrameChanges()
	changes.SetName("changes")
	pixels := NewReshape(in[0], in[1]*in[2]*in[3])
	pixels.SetInputs(InputName)
	features := ReLU()
	features.SetName("features")
	layers := []Layer{changes, pixels, NewDense(32), features, NewConcat("changes", "features")}
	for range 3 {
		layers = append(layers, &Conv1D{Filters: 48, Kernel: 9, Padding: "same"}, ReLU())
	}
	return NewSequential("shots", append(layers, NewDense(outputs))...), nil
}
