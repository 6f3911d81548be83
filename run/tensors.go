package run

import "github.com/dlrun/dlrun/datasets"

// The names of the tensors of a served or exported run, declared once:
// `dlrun serve` takes and answers them (docs/serving.md) and `dlrun
// export` names its ONNX graph's inputs and outputs with them
// (docs/onnx.md). Which a run has is its kind's (Kind.Tensors).
const (
	InputName         = "input"         // every model's input
	KeysName          = "keys"          // an exported joint music model's second input: the keys its logits are conditioned on, of their shape
	ProbabilitiesName = "probabilities" // a classifier's (or a policy's) probabilities [N, classes]
	TopClassesName    = "top_classes"   // a classifier's k most probable classes, "<probability>:<index>:<class>"
	LogitsName        = "logits"        // raw outputs: a classifier's [N, outputs], a language model's [N, T, vocabulary], a policy's [N, actions]
	RatingName        = "rating"        // a rating model's prediction [N, 1]
	ValueName         = "value"         // a regressor's prediction [N, 1], in its target's units
	QValuesName       = "q_values"      // a DQN's value of each action [N, actions]
	ActionName        = "action"        // an agent's greedy action [N]: the largest legal output
)

// Head is what an output tensor computes from the model's outputs.
type Head int

// The heads of an output tensor.
const (
	// Raw is the model's output as it is: logits, a rating, Q-values.
	Raw Head = iota
	// Probabilities are the model's outputs as probabilities, as
	// train.Model.Predict gives them: the softmax of a cross-entropy
	// model's, [1−p, p] for one sigmoid output.
	Probabilities
	// TopClasses are the most probable classes, named (served only: ONNX
	// has no strings of this kind).
	TopClasses
	// Action is the index of the largest output, among the legal ones
	// where a request says which are (an agent's greedy action).
	Action
	// Scaled is the model's output times Output.Scale plus Output.Shift:
	// a regressor's standardised prediction in its target's units.
	Scaled
)

// Output is an output tensor of a served or exported run.
type Output struct {
	Name string
	Head Head
	// Shape is the tensor's shape per example: -1 for a size the request
	// chooses (top_classes' k); a language model's logits [steps, vocab].
	Shape []int
	// Doc says what the tensor holds, for ONNX's doc strings.
	Doc string
	// Serve and Export say whether dlrun serve answers it and whether the
	// ONNX graph has it.
	Serve, Export bool
	// Scale and Shift map the model's output for head Scaled.
	Scale, Shift float64
}

// Tensors is how the runs of a kind are served and exported: the input,
// the outputs, and what describes them.
type Tensors struct {
	// Shape is the shape of one example of the input.
	Shape []int
	// IDs says the input holds whole-number ids (token ids, user and movie
	// indices): INT64 when served, int64 in ONNX. Otherwise it holds
	// values (FP32).
	IDs bool
	// Bound gives, for IDs, what the i-th value of an example is ("user
	// index") and the number it must stay below.
	Bound func(i int) (what string, limit int)
	// InputDoc says what the input holds, for ONNX's doc strings.
	InputDoc string
	// Steps says the input's first axis is a sequence's steps (a token id
	// or a piano roll's 88 keys each), which ONNX leaves symbolic
	// ("steps"); each example then has Shape[0] rows of outputs.
	Steps bool
	// Pad says the model runs batches of any size through graphs it keeps
	// per size, so a server pads a small batch to one of a few sizes; a
	// model that runs every batch at its full size (a rating model) is
	// not padded.
	Pad bool
	// Images says the model classifies images ([1 or 3, height, width]):
	// serve's predict-image takes them.
	Images bool
	// Classes names a classifier's classes (one per probability), for
	// top_classes.
	Classes []string
	// Table is a table model's preprocessing: serve also takes a row's
	// named columns, which it makes the input.
	Table *datasets.Preprocessing
	// Outputs are the output tensors.
	Outputs []Output
	// Meta holds what describes the tensors (classes, vocab, users and
	// movies, actions): serve's model metadata and the ONNX file's
	// metadata_props carry it.
	Meta map[string]any
}

// Predicts reports whether t's outputs are computed from the model's
// probabilities (train.Model.Predict) rather than its raw outputs
// (train.Model.Outputs).
func (t *Tensors) Predicts() bool {
	for _, o := range t.Outputs {
		if o.Head == Probabilities || o.Head == TopClasses {
			return true
		}
	}
	return false
}
