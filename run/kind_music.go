package run

import (
	"fmt"
	"io"

	"github.com/dlrun/dlrun/datasets"
	"github.com/dlrun/dlrun/music"
	"github.com/dlrun/dlrun/nn"
	"github.com/dlrun/dlrun/train"
	"github.com/pkg/errors"
)

func init() { Register(Music) }

// Music is the kind of run that models polyphonic music: a sequence model
// reads a piece as a piano roll (the 88 keys sounding at each step) and
// predicts each step from the steps before it, a sigmoid per key, scored
// by the test NLL per step (nats, summed over the keys: the benchmark of
// Boulanger-Lewandowski et al. 2012 on the JSB Chorales) and frame
// accuracy. Its runs compose (Run.Compose).
var Music = &musicKind{supervised{
	name: "music",
	refs: map[string]Config{
		"music-lstm":        {Dataset: "jsb-chorales", Cell: "lstm", SeqLen: musicSeqLen, Config: musicLSTMRecipe},
		"music-lstm-joint":  {Dataset: "jsb-chorales", Cell: "lstm", SeqLen: musicSeqLen, Config: musicJointRecipe},
		"music-transformer": {Dataset: "jsb-chorales", SeqLen: musicSeqLen, Config: musicTransformerRecipe},
	},
	file: Config{Dataset: "jsb-chorales", SeqLen: musicSeqLen, Config: musicLSTMRecipe},
	loss: "bce",
	progress: Progress{Unit: "step", Rate: "steps",
		Headline: Headline{Name: "nll", Column: "test_nll", Summary: "test_nll"}},
}}

// musicSeqLen is the music models' steps per example: every JSB chorale
// (at most 160 steps) is read whole.
const musicSeqLen = 160

// musicLSTMRecipe is music-lstm's recipe (bench/music_ref.py's research):
// Adam at 3e-3 on batches of 4 pieces, 45 epochs (where the validation
// chorales' NLL is lowest), the gradient norm clipped at 1/88, which is
// PyTorch's clip of 1 on the loss summed over the 88 keys (dlrun's bce
// averages over them).
var musicLSTMRecipe = train.Config{Epochs: 45, BatchSize: 4, Optimizer: "adam", LearningRate: 3e-3, ClipNorm: 1.0 / music.Keys, Loss: "bce"}

// musicJointRecipe is music-lstm-joint's: music-lstm's for 46 epochs,
// where the validation chorales' NLL was lowest in bench/music_ref.py
// --model music-lstm-joint (5.525; within 0.01 of it from epoch 44 to 55).
var musicJointRecipe = train.Config{Epochs: 46, BatchSize: 4, Optimizer: "adam", LearningRate: 3e-3, ClipNorm: 1.0 / music.Keys, Loss: "bce"}

// musicTransformerRecipe is music-transformer's (the research's best
// transformer without transposition): Adam at 1e-3 on batches of 8
// pieces, 30 epochs, the gradient norm clipped at 1/88 as music-lstm's.
var musicTransformerRecipe = train.Config{Epochs: 30, BatchSize: 8, Optimizer: "adam", LearningRate: 1e-3, ClipNorm: 1.0 / music.Keys, Loss: "bce"}

// musicKind is the kind of Music.
type musicKind struct{ supervised }

var _ SupervisedKind = Music

// LoadMusic returns the bundled JSB Chorales (jsb-chorales, quarter
// notes) or the music dataset of the Standard MIDI Files in the folder at
// path, quantised to grid ("": quarter notes; datasets.LoadMIDIDir).
func LoadMusic(path, grid string) (*datasets.Music, error) {
	g, err := parseGrid(grid)
	if err != nil {
		return nil, err
	}
	if path == "jsb-chorales" {
		if g != music.Quarter {
			return nil, errors.Errorf("grid %s: the JSB Chorales are published at quarter notes", grid)
		}
		return datasets.JSBChorales()
	}
	return datasets.LoadMIDIDir(path, g)
}

// parseGrid reads a configuration's grid, "" meaning quarter notes.
func parseGrid(grid string) (music.Grid, error) {
	if grid == "" {
		return music.Quarter, nil
	}
	return music.ParseGrid(grid)
}

// Takes implements Kind: a music model takes grid too.
func (k *musicKind) Takes(name string, c *Config, r Config) (bool, string) {
	if name == "grid" {
		return true, ""
	}
	return k.supervised.Takes(name, c, r)
}

// Resolve implements Kind: the supervised kinds' checks, and the grid.
func (k *musicKind) Resolve(c *Config) error {
	if _, err := parseGrid(c.Grid); err != nil {
		return err
	}
	return k.supervised.Resolve(c)
}

// FromMusic presents a music dataset for next-step prediction: its
// training and test pieces as piano rolls of 88 keys a step. The
// validation pieces are not read: the recipes' epochs were chosen on them.
func FromMusic(m *datasets.Music) *Data {
	return &Data{Name: m.Name, SHA256: m.SHA256, Train: rollsOf(m.Train), Test: rollsOf(m.Test)}
}

// rollsOf presents pieces as train.Sequences of 88 keys a step.
func rollsOf(pieces []datasets.Piece) *train.Sequences {
	s := &train.Sequences{Width: music.Keys, Seqs: make([][]float32, len(pieces))}
	for i, p := range pieces {
		q := make([]float32, len(p.Roll.Steps)*music.Keys)
		for t, step := range p.Roll.Steps {
			step.Fill(q[t*music.Keys : (t+1)*music.Keys])
		}
		s.Seqs[i] = q
	}
	return s
}

// Data implements SupervisedKind.
func (*musicKind) Data(c *Config) (*Data, error) {
	m, err := LoadMusic(c.Dataset, c.Grid)
	if err != nil {
		return nil, err
	}
	return FromMusic(m), nil
}

// Build implements SupervisedKind: seq_len steps of 88 keys in, the next
// step's 88 logits after each out.
func (*musicKind) Build(c *Config, d *Data) (*nn.Sequential, train.Task, error) {
	if err := d.check(); err != nil {
		return nil, nil, err
	}
	if _, ok := d.Train.(*train.Sequences); !ok {
		return nil, nil, errors.Errorf("dataset %s holds no pieces of music: the music task needs piano rolls (jsb-chorales or a folder of MIDI files)", d.Name)
	}
	if c.SeqLen < 1 {
		return nil, nil, errors.Errorf("seq_len %d: a music model reads at least one step", c.SeqLen)
	}
	model, err := network(c, d, []int{c.SeqLen, music.Keys}, music.Keys)
	if err != nil {
		return nil, nil, err
	}
	return model, &train.NextStep{Width: music.Keys, SeqLen: c.SeqLen}, nil
}

// FitBatch implements SupervisedKind: the batch counts pieces (windows of
// seq_len steps), and is lowered to the training pieces there are.
func (*musicKind) FitBatch(c *Config, d *Data) string {
	s, ok := d.Train.(*train.Sequences)
	if !ok || len(s.Seqs) < 1 || c.BatchSize <= len(s.Seqs) {
		return ""
	}
	b := c.BatchSize
	c.BatchSize = len(s.Seqs)
	return fmt.Sprintf("batch %d is larger than the %s: using batches of %d, one per epoch", b, plural(len(s.Seqs), "training piece"), c.BatchSize)
}

// NewTask implements Kind.
func (*musicKind) NewTask(info *train.ModelInfo) (train.Task, error) { return info.NewTask() }

// Check implements Kind: a music model reads and predicts 88 keys, and
// the loop's settings agree (checkLoop).
func (k *musicKind) Check(c *Config, info *train.ModelInfo, ck *train.Config) error {
	if len(info.InputShape) != 2 || info.InputShape[1] != music.Keys || info.Outputs != music.Keys {
		return errors.Errorf("model.json: input_shape %v and %s: a music model reads [steps %d] and predicts %d keys", info.InputShape, plural(info.Outputs, "output"), music.Keys, music.Keys)
	}
	return checkLoop(k.Loop(c), info, ck)
}

// evalData loads music dataset name (the run's if "") for evaluating or
// composing with run r; the run's own must still have the SHA-256 the run
// recorded.
func (*musicKind) evalData(r *Run, name string) (*Data, error) {
	own := name == ""
	name, err := evalDataset(r, name)
	if err != nil {
		return nil, err
	}
	m, err := LoadMusic(name, r.Config.Grid)
	if err != nil {
		if own {
			return nil, unloadable(r, err)
		}
		return nil, err
	}
	d := FromMusic(m)
	if name == r.Config.Dataset {
		if err := checkOwnData(&r.Config, d); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// Evaluate implements Kind: the NLL per step and frame accuracy over the
// test pieces, read as in training (windows of the model's steps; a JSB
// chorale whole); on the run's own data the NLL is the run's last
// test_nll.
func (k *musicKind) Evaluate(r *Run, o EvalOptions) (Report, error) {
	if err := agentOptions(k, o); err != nil {
		return nil, err
	}
	d, err := k.evalData(r, o.Data)
	if err != nil {
		return nil, err
	}
	ev, err := r.Model.Evaluate(d.Test)
	if err != nil {
		return nil, errors.Wrapf(err, "evaluating on %s", d.Name)
	}
	_, nll := (&train.NextStep{Width: music.Keys}).Derived(ev.Loss) // the one definition, as summary.json's
	test := d.Test.(*train.Sequences)
	return &MusicReport{Dataset: d.Name, Loss: ev.Loss, NLL: nll, FrameAccuracy: ev.Metrics[train.FrameAccuracy.Name],
		Pieces: len(test.Seqs), Steps: test.Len()}, nil
}

// Tensors implements Kind: steps of 88 keys (0 or 1) in, the logits of
// the next step's keys after each step out.
func (*musicKind) Tensors(r *Run) (*Tensors, error) {
	steps := r.Model.Info.InputShape[0]
	doc := "the logits of each key sounding at the next step, after each step"
	model, err := r.Model.Info.Model.Build()
	if err != nil {
		return nil, errors.Wrapf(err, "run folder %s: model.json", r.Dir)
	}
	if joint, err := nn.AutoregressiveOutput(model); err != nil {
		return nil, errors.Wrapf(err, "run folder %s: model.json", r.Dir)
	} else if joint != nil {
		doc = "the logits of each key of the next step given the keys below it in that step as the roll holds them (silence after the last step), after each step: their binary cross-entropies summed are the roll's negative log-likelihood"
	}
	return &Tensors{
		Shape:    []int{steps, music.Keys},
		InputDoc: fmt.Sprintf("a piano roll: %d steps of the %d piano keys (MIDI notes %d to %d), 1 where a key sounds", steps, music.Keys, music.Lowest, music.Highest),
		Steps:    true,
		Pad:      true,
		Outputs: []Output{{Name: LogitsName, Head: Raw, Shape: []int{steps, music.Keys}, Doc: doc,
			Serve: true, Export: true}},
		Meta: map[string]any{"keys": music.Keys, "lowest_note": music.Lowest},
	}, nil
}

// MusicReport is an evaluation of a music model on the test pieces of a
// dataset, the figures of the polyphonic-music benchmark.
type MusicReport struct {
	Dataset string `json:"dataset"`
	// Loss is the binary cross-entropy per predicted step averaged over
	// the 88 keys: the test_loss of metrics.csv.
	Loss float64 `json:"loss"`
	// NLL is the negative log-likelihood per predicted step in nats,
	// summed over the 88 keys (Loss × 88): summary.json's test_nll.
	NLL float64 `json:"nll"`
	// FrameAccuracy is true positives / (true positives + false positives
	// + false negatives) over every predicted step (Bay et al. 2009), a
	// key predicted on when its probability is at least 0.5.
	FrameAccuracy float64 `json:"frame_accuracy"`
	// Pieces and Steps count the test pieces and their predicted steps
	// (every step but a piece's first).
	Pieces int `json:"pieces"`
	Steps  int `json:"steps"`
}

// Print implements Report.
func (m *MusicReport) Print(w io.Writer) {
	fmt.Fprintf(w, "%s: %s, %s predicted, NLL per step %.4f nats, frame accuracy %.4f (loss %.6f)\n",
		m.Dataset, plural(m.Pieces, "test piece"), plural(m.Steps, "step"), m.NLL, m.FrameAccuracy, m.Loss)
}

// runData implements dataLoading.
func (k *musicKind) runData(r *Run, name string) (*Data, error) { return k.evalData(r, name) }
