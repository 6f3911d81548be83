package nn

import "github.com/pkg/errors"

// ShotNet returns the shot-boundary detector of the reference model shots
// for windows of frames in, [frames, 3, h, w] (values from 0 to 1), with
// outputs logits per frame. Each frame gets two kinds of features: its 16
// computed signals (FrameChanges with Structure: 12 differences from its
// neighbours, 4 changes of structure that a change of light leaves out)
// and 32 it learns from its pixels (dense 32 ReLU over the flattened
// frame), joined. A temporal convolution
// of 5 frames (64 filters, ReLU) and three residual ones dilated 2, 3 and
// 6 frames (TransNetV2's dilated convolutions) compare them across
// neighbouring frames, so that each frame's logits see 24 frames on either
// side, most of a long dissolve; a dense layer gives the logits.
func ShotNet(in []int, outputs int) (*Sequential, error) {
	if len(in) != 4 || in[1] != 3 || in[0] < 1 || in[2] < 1 || in[3] < 1 {
		return nil, errors.Errorf("shots: input %v: want windows of RGB frames [frames, 3, height, width]", in)
	}
	changes := &FrameChanges{Structure: true}
	changes.SetName("changes")
	pixels := NewReshape(in[0], in[1]*in[2]*in[3])
	pixels.SetInputs(InputName)
	features := ReLU()
	features.SetName("features")
	layers := []Layer{changes, pixels, NewDense(32), features, NewConcat("changes", "features"),
		&Conv1D{Filters: 64, Kernel: 5, Padding: "same"}, ReLU()}
	for _, d := range shotDilations {
		layers = append(layers, NewResidual(&Conv1D{Filters: 64, Kernel: 5, Dilation: d, Padding: "same"}, ReLU()))
	}
	return NewSequential("shots", append(layers, NewDense(outputs))...), nil
}

// shotDilations are the dilations of ShotNet's residual temporal
// convolutions after the first: with kernels of 5 frames, each frame sees
// 2·(1+2+3+6) = 24 frames on either side, every one of them.
var shotDilations = []int{2, 3, 6}
