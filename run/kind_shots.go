package run

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"sort"

	"github.com/dlrun/dlrun/nn"
	"github.com/dlrun/dlrun/train"
	"github.com/dlrun/dlrun/video"
	"github.com/dlrun/dlrun/video/synth"
	"github.com/pkg/errors"
)

func init() { Register(Shots) }

// Shots is the kind of run that finds shot transitions in video: per frame
// of a window of frames, the probability that it lies at the middle of a
// transition (a hard cut, a dissolve, a fade), learned from the synthetic
// material of video/synth and scored by the F1 of hard cuts. `dlrun cuts`
// detects with a run of it.
var Shots = &shots{supervised{
	name: "shots",
	refs: map[string]Config{"shots": shotRecipe},
	file: shotRecipe,
	loss: "bce",
	progress: Progress{Unit: "frame", Rate: "frames",
		Headline: Headline{Name: "f1_cuts", Column: "test_f1_cuts", Summary: "test_f1_cuts", HigherIsBetter: true}},
}}

// shotRecipe is the shot detector's: windows of 100 frames (seq_len) of the
// material synth.Command makes in synth.DefaultDir.
var shotRecipe = Config{Dataset: synth.DefaultDir, SeqLen: 100,
	Config: train.Config{Epochs: 20, BatchSize: 16, Optimizer: "adam", LearningRate: 2e-3, Loss: "bce", Schedule: "cosine"}}

// shots is the kind of Shots.
type shots struct{ supervised }

var _ SupervisedKind = Shots

// Data implements SupervisedKind: the material in folder c.Dataset, as
// video/synth writes it (train/ and test/).
func (*shots) Data(c *Config) (*Data, error) { return LoadShots(c.Dataset) }

// Build implements SupervisedKind: windows of seq_len frames [seq_len, 3,
// h, w] in, train.ShotOutputs logits per frame out.
func (*shots) Build(c *Config, d *Data) (*nn.Sequential, train.Task, error) {
	if err := d.check(); err != nil {
		return nil, nil, err
	}
	model, err := network(c, d, append([]int{c.SeqLen}, d.Shape...), train.ShotOutputs)
	if err != nil {
		return nil, nil, err
	}
	return model, &train.Shots{Window: c.SeqLen, Frame: slices.Clone(d.Shape)}, nil
}

// FitBatch implements SupervisedKind: the batch counts windows, which a
// training pass draws at random, so any batch fits.
func (*shots) FitBatch(*Config, *Data) string { return "" }

// NewTask implements Kind.
func (*shots) NewTask(info *train.ModelInfo) (train.Task, error) { return info.NewTask() }

// Check implements Kind: nothing of config.json describes the outputs; the
// loop's settings must agree with model.json and the checkpoint's.
func (k *shots) Check(c *Config, info *train.ModelInfo, ck *train.Config) error {
	return checkLoop(k.Loop(c), info, ck)
}

// evalData loads the material name (the run's if "") for evaluating shot
// detector r: its test split, which must still have the SHA-256 the run
// recorded if it is the run's own, and frames of the model's shape.
func (*shots) evalData(r *Run, name string) (*Data, *synth.Set, error) {
	own := name == ""
	name, err := evalDataset(r, name)
	if err != nil {
		return nil, nil, err
	}
	d, err := LoadShots(name)
	if err != nil {
		if own {
			return nil, nil, unloadable(r, err)
		}
		return nil, nil, err
	}
	if name == r.Config.Dataset {
		if err := checkOwnData(&r.Config, d); err != nil {
			return nil, nil, err
		}
	}
	if in := r.Model.Info.InputShape; !slices.Equal(in[1:], d.Shape) {
		return nil, nil, errors.Errorf("dataset %s has frames of shape %v; the model reads %v", d.Name, d.Shape, in[1:])
	}
	return d, d.Test.(shotClips).set, nil
}

// Evaluate implements Kind: the test clips' detections against their
// transitions, and where the false positives fall among the hard
// negatives the material marks.
func (k *shots) Evaluate(r *Run, o EvalOptions) (Report, error) {
	if err := agentOptions(k, o); err != nil {
		return nil, err
	}
	d, set, err := k.evalData(r, o.Data)
	if err != nil {
		return nil, err
	}
	ev, err := r.Model.Evaluate(d.Test)
	if err != nil {
		return nil, errors.Wrapf(err, "evaluating on %s", d.Name)
	}
	task, ok := r.Model.Trainer().Task().(*train.Shots)
	if !ok || len(ev.Probabilities) != len(set.Clips) {
		return nil, errors.Errorf("evaluating on %s: %d clips scored of %d", d.Name, len(ev.Probabilities), len(set.Clips))
	}
	rep := &ShotsReport{Dataset: d.Name, Clips: len(set.Clips), Frames: d.Test.Len(), Loss: ev.Loss, AtNegatives: map[string]int{}}
	clips := d.Test.(shotClips)
	for i, probs := range ev.Probabilities {
		dets, trans := task.Detect(probs), clips.Transitions(i)
		rep.Counts = rep.Counts.Add(train.MatchTransitions(dets, trans))
		for _, f := range train.Unmatched(dets, trans) {
			for _, n := range set.Clips[i].Labels.Negatives {
				if n.Start-train.ShotTolerance <= f && f <= n.End+train.ShotTolerance {
					rep.AtNegatives[n.Kind]++
					break
				}
			}
		}
	}
	rep.F1Cuts, rep.F1Gradual = rep.Counts.F1Cuts(), rep.Counts.F1Gradual()
	rep.Precision, rep.Recall = rep.Counts.Precision(), rep.Counts.Recall()
	return rep, nil
}

// Tensors implements Kind: windows of frames in, per frame the
// probabilities of its two outputs. A shot detector is served, not
// exported: its change signals (nn.FrameChanges) have no ONNX operator.
func (*shots) Tensors(r *Run) (*Tensors, error) {
	in := r.Model.Info.InputShape
	return &Tensors{
		Shape:    slices.Clone(in),
		InputDoc: fmt.Sprintf("windows of %d frames [3, %d, %d], RGB planes of values from 0 to 1, as video.Open decodes them (bytes/255)", in[0], in[2], in[3]),
		Steps:    true,
		Pad:      true,
		Outputs: []Output{{Name: ProbabilitiesName, Head: Probabilities, Shape: []int{in[0], train.ShotOutputs},
			Doc: "per frame: the probability that it lies at the middle of a transition (what dlrun cuts detects by), and that it is part of one", Serve: true}},
		Meta: map[string]any{"window": in[0], "outputs": []string{"single", "all"}},
	}, nil
}

// ShotsReport is an evaluation of a shot detector on the test clips of
// shot material: the loss, the matched and missed transitions and the
// false positives (Counts, matched within train.ShotTolerance frames), the
// F1 of hard cuts and of gradual transitions, precision and recall, and
// the false positives at each kind of hard negative the clips mark
// (flash, whip, light, sweep).
type ShotsReport struct {
	Dataset     string           `json:"dataset"`
	Clips       int              `json:"clips"`
	Frames      int              `json:"frames"`
	Loss        float64          `json:"loss"`
	F1Cuts      float64          `json:"f1_cuts"`
	F1Gradual   float64          `json:"f1_gradual"`
	Precision   float64          `json:"precision"`
	Recall      float64          `json:"recall"`
	Counts      train.ShotCounts `json:"counts"`
	AtNegatives map[string]int   `json:"false_positives_at_negatives"`
}

// Print implements Report.
func (r *ShotsReport) Print(w io.Writer) {
	c := r.Counts
	fmt.Fprintf(w, "%s: %s, %s, loss %.4f\n", r.Dataset, plural(r.Clips, "clip"), plural(r.Frames, "frame"), r.Loss)
	fmt.Fprintf(w, "hard cuts:  F1 %.4f (%d found, %d missed)\n", r.F1Cuts, c.Cuts, c.MissedCuts)
	fmt.Fprintf(w, "gradual:    F1 %.4f (%d found, %d missed)\n", r.F1Gradual, c.Gradual, c.MissedGradual)
	fmt.Fprintf(w, "all:        precision %.4f, recall %.4f, %s", r.Precision, r.Recall, plural(c.FalsePositives, "false positive"))
	if len(r.AtNegatives) > 0 {
		var kinds []string
		for k := range r.AtNegatives {
			kinds = append(kinds, k)
		}
		sort.Strings(kinds)
		fmt.Fprint(w, " (at hard negatives:")
		for _, k := range kinds {
			fmt.Fprintf(w, " %s %d", k, r.AtNegatives[k])
		}
		fmt.Fprint(w, ")")
	}
	fmt.Fprintln(w)
}

// runData implements dataLoading.
func (k *shots) runData(r *Run, name string) (*Data, error) {
	d, _, err := k.evalData(r, name)
	return d, err
}

// LoadShots loads the shot-boundary material in folder dir, as video/synth
// writes it: its train and test splits decoded to 48×27 frames, their
// labels checked.
func LoadShots(dir string) (*Data, error) {
	var sets [2]*synth.Set
	for i, split := range []string{"train", "test"} {
		s, err := synth.Load(context.Background(), filepath.Join(dir, split), video.Options{})
		if err != nil {
			return nil, errors.Wrapf(err, "dataset %s", dir)
		}
		sets[i] = s
	}
	sum := sha256.Sum256([]byte(sets[0].SHA256 + " " + sets[1].SHA256))
	return &Data{Name: dir, SHA256: hex.EncodeToString(sum[:]), Shape: []int{3, sets[0].Height, sets[0].Width},
		Train: shotClips{sets[0]}, Test: shotClips{sets[1]}}, nil
}
