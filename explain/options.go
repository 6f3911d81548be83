package explain

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/pkg/errors"
)

// Method is an attribution method.
type Method string

// The attribution methods.
const (
	// IntegratedGradients (Sundararajan et al., 2017) averages the
	// gradient along the straight path from a baseline to the input and
	// multiplies it by the input less the baseline. The attributions sum
	// to the output at the input less the output at the baseline
	// (completeness), up to the quadrature's error, which Attribution.Delta
	// reports. Cost: Steps+2 forward and backward passes (Gauss–Legendre's
	// nodes and the two ends; Steps+1 for the other rules), batched.
	IntegratedGradients Method = "integrated-gradients"
	// Saliency (Simonyan et al., 2014) is the absolute value of the
	// gradient of the output at the input: where a small change moves the
	// output most. Cost: one forward and backward pass.
	Saliency Method = "saliency"
	// Occlusion (Zeiler and Fergus, 2014) slides a window over the input,
	// replaces what it covers by the baseline and records how far the
	// output falls; a value's attribution is the mean fall over the
	// windows that cover it. Cost: one forward pass per window, batched.
	Occlusion Method = "occlusion"
)

// ParseMethod returns the method named s: integrated-gradients (or ig),
// saliency or occlusion.
func ParseMethod(s string) (Method, error) {
	switch Method(s) {
	case IntegratedGradients, "ig":
		return IntegratedGradients, nil
	case Saliency, Occlusion:
		return Method(s), nil
	}
	return "", errors.Errorf("unknown attribution method %q (known: integrated-gradients (ig), saliency, occlusion)", truncate(s))
}

// Baseline is what integrated gradients starts from and what occlusion
// puts in place of the values it hides, for an image.
type Baseline string

// The baselines.
const (
	// Black is the image of zeros, black in the [0, 1] pixel scale of
	// dlrun's image data (and, for a table, the row of zeros: each
	// feature's mean once standardised).
	Black Baseline = "black"
	// Blur is the input blurred by a Gaussian (Sturmfels et al., 2020):
	// it keeps the colours and hides the edges and textures, so that
	// attributions do not reward a pixel merely for being bright.
	Blur Baseline = "blur"
)

// ParseBaseline returns the baseline named s: black or blur.
func ParseBaseline(s string) (Baseline, error) {
	switch Baseline(s) {
	case Black, Blur:
		return Baseline(s), nil
	}
	return "", errors.Errorf("unknown baseline %q (known: black, blur)", truncate(s))
}

// Rule is the quadrature rule of integrated gradients.
type Rule string

// The quadrature rules.
const (
	// Trapezoid is the trapezoid rule over Steps equal intervals of the
	// path, Steps+1 points: its error falls as 1/Steps² where the model is
	// smooth, against 1/Steps for the paper's right sum.
	Trapezoid Rule = "trapezoid"
	// RightSum is the paper's Riemann sum over the Steps right ends of
	// the intervals.
	RightSum Rule = "right-sum"
	// GaussLegendre is Gauss–Legendre quadrature with Steps nodes, Captum's
	// default: exact where the gradient along the path is a polynomial of
	// degree below 2·Steps. The ends of the path are run too, for the
	// outputs at the baseline and at the input: Steps+2 points.
	GaussLegendre Rule = "gauss-legendre"
	// Adaptive is the trapezoid rule on a grid refined where the path
	// needs it: Steps+2 points in all, half of them equally spaced, the
	// rest added a few at a time (3 at 50 steps) at the middles of the intervals
	// where the trapezoid's integral of the output's derivative along the
	// path misses the output's change across the interval the most (the
	// kinks of ReLU and max-pooling, a gate that switches).
	Adaptive Rule = "adaptive"
)

// Quantity is what output of a model is explained: a classifier's (or
// next-token model's) logit or probability, a regression's prediction.
type Quantity string

// The quantities explained.
const (
	// Logit is the model's raw output for the class: the softmax's (or
	// the sigmoid's) argument.
	Logit Quantity = "logit"
	// Probability is the class's probability, as dlrun predict gives it:
	// the softmax of the logits of a model trained with cce, the sigmoid
	// of a model trained with bce. A model trained with mse has none.
	Probability Quantity = "probability"
	// Prediction is a regression's predicted number less its target's
	// mean, in the target's units (the model's output times the target's
	// scale, train.ModelInfo.TargetStd): the one quantity of a regression,
	// and of no other kind of model.
	Prediction Quantity = "prediction"
)

// Target names the output explained: the zero Target is the predicted
// class (or next token); Class picks one.
type Target struct {
	index int
	set   bool
}

// Class returns the Target of class (output, token) i, counted from 0.
func Class(i int) Target { return Target{index: i, set: true} }

// Index returns the class the Target names and true, or false for the
// predicted class.
func (t Target) Index() (int, bool) { return t.index, t.set }

// ClassNamed returns the Target of the class (or token) called name among
// names, the model's classes (or vocabulary) in order.
func ClassNamed(name string, names []string) (Target, error) {
	for i, n := range names {
		if n == name {
			return Class(i), nil
		}
	}
	const listed = 12
	list := make([]string, 0, listed)
	for _, n := range names[:min(len(names), listed)] {
		list = append(list, strconv.Quote(n))
	}
	more := ""
	if len(names) > listed {
		more = fmt.Sprintf(" and %d more", len(names)-listed)
	}
	return Target{}, errors.Errorf("class %q is not one of the model's %d: %s%s", truncate(name), len(names), strings.Join(list, ", "), more)
}

// Defaults and limits of Options.
const (
	// DefaultSteps is integrated gradients' number of intervals when
	// Options.Steps is 0.
	DefaultSteps = 50
	// MaxSteps is the most intervals integrated gradients may take.
	MaxSteps = 10_000
	// MaxBlurSigma is the widest blur, in pixels.
	MaxBlurSigma = 1000
)

// Options choose a method and its settings. Every zero field means its
// default.
type Options struct {
	// Method is the attribution method (default IntegratedGradients).
	Method Method
	// Target is the output explained (default: the predicted class).
	Target Target
	// Steps is integrated gradients' number of intervals, or of
	// Gauss–Legendre's nodes (default 50, at most MaxSteps).
	Steps int
	// Rule is integrated gradients' quadrature (default Adaptive: of the
	// rules, the one whose attributions sum to the change of the output
	// within 1% on every reference model, docs/explain.md).
	Rule Rule
	// Quantity is the output explained (default Logit; Prediction, the
	// only one, for a regression).
	Quantity Quantity
	// Baseline is integrated gradients' starting point and occlusion's
	// replacement (default Black).
	Baseline Baseline
	// BlurSigma is the Blur baseline's standard deviation in pixels
	// (default an eighth of the image's larger side).
	BlurSigma float64
	// Window and Stride are occlusion's window side and step (defaults: a
	// seventh of the image's smaller side and half the window, at least 1;
	// 1 and 1 for a table's row).
	Window, Stride int
	// Signed keeps saliency's gradient as it is, with its sign (Captum's
	// Saliency with abs=False), instead of its magnitude (the default).
	Signed bool
}

// withDefaults returns o with its zero fields set, or an error naming a
// field that is out of range.
func (o Options) withDefaults() (Options, error) {
	if o.Method == "" {
		o.Method = IntegratedGradients
	}
	if _, err := ParseMethod(string(o.Method)); err != nil {
		return o, err
	}
	if o.Method == "ig" {
		o.Method = IntegratedGradients
	}
	if o.Steps == 0 {
		o.Steps = DefaultSteps
	}
	if o.Steps < 1 || o.Steps > MaxSteps {
		return o, errors.Errorf("steps %d: must be from 1 to %d", o.Steps, MaxSteps)
	}
	switch o.Rule {
	case "":
		o.Rule = Adaptive
	case Trapezoid, RightSum, GaussLegendre, Adaptive:
	default:
		return o, errors.Errorf("unknown quadrature rule %q (known: trapezoid, right-sum, gauss-legendre, adaptive)", truncate(string(o.Rule)))
	}
	switch o.Quantity {
	case "":
		o.Quantity = Logit
	case Logit, Probability, Prediction:
	default:
		return o, errors.Errorf("unknown quantity %q to explain (known: logit, probability, prediction)", truncate(string(o.Quantity)))
	}
	if o.Baseline == "" {
		o.Baseline = Black
	}
	if _, err := ParseBaseline(string(o.Baseline)); err != nil {
		return o, err
	}
	if !(o.BlurSigma >= 0 && o.BlurSigma <= MaxBlurSigma) || math.IsNaN(o.BlurSigma) {
		return o, errors.Errorf("blur sigma %v: must be from 0 (the default) to %d pixels", o.BlurSigma, MaxBlurSigma)
	}
	if o.Window < 0 || o.Stride < 0 {
		return o, errors.Errorf("occlusion window %d and stride %d: must be positive (0 for the defaults)", o.Window, o.Stride)
	}
	return o, nil
}

// truncate shortens a name quoted in an error.
func truncate(s string) string {
	const max = 64
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}
