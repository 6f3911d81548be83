package train

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"

	"github.com/dlrun/dlrun/internal/kernels"
	"github.com/pkg/errors"
)

// each calls fn on chunks of every variable, in parallel. Updates are
// elementwise, so the split does not change the result.
func each(vars []Var, fn func(v Var, lo, hi int)) {
	for _, v := range vars {
		kernels.ParallelFor(len(v.Value), 1<<14, func(lo, hi int) { fn(v, lo, hi) })
	}
}

// Regularization holds the options every optimizer shares. They are
// applied to the gradients before the update rule, in this order:
// clipping by global norm, clipping by value, then L2 weight decay (for
// AdamW, decoupled weight decay instead, in its update).
type Regularization struct {
	// WeightDecay adds WeightDecay·w to each gradient (L2 regularisation,
	// as PyTorch's weight_decay); AdamW decays the weights themselves.
	WeightDecay float64
	// ClipNorm rescales all gradients together by
	// ClipNorm/(norm + 1e-6) where that is below 1, norm being their
	// global L2 norm (PyTorch's clip_grad_norm_). 0: off.
	ClipNorm float64
	// ClipValue clips each gradient element to [-ClipValue, ClipValue]. 0: off.
	ClipValue float64
}

// Var is a trainable variable as an optimizer sees it: its current value
// and its gradient, both as float64. Optimizer state is kept per Name.
type Var struct {
	Name  string
	Value []float64 // updated in place by Step
	Grad  []float64 // may be modified by Step
}

// Optimizer updates variables from their gradients.
type Optimizer interface {
	// Name returns the optimizer's name, as accepted by OptimizerByName.
	Name() string
	// LearningRate returns the current learning rate: the optimizer's
	// default where its LR is 0.
	LearningRate() float64
	// SetLearningRate changes the learning rate (for schedules); 0 means
	// the optimizer's default.
	SetLearningRate(lr float64)
	// Step applies one update to vars. The set and order of vars must be
	// the same at every call. It returns an error, and changes nothing, if
	// the learning rate is negative, NaN or infinite, if vars is empty or
	// if a variable's value and gradient differ in length.
	Step(vars []Var) error
	// State returns the optimizer's state (moments, step count) by name,
	// for checkpoints.
	State() map[string][]float64
	// SetState restores a state returned by State. It returns an error,
	// and changes nothing, for a state without a whole non-negative step
	// count or with an entry that is not one of this optimizer's.
	SetState(map[string][]float64) error
	// Options returns the shared options (clipping, weight decay).
	Options() *Regularization
}

// prepare applies clipping and weight decay to the gradients of vars.
func (r *Regularization) prepare(vars []Var) {
	r.clip(vars)
	if wd := r.WeightDecay; wd != 0 {
		each(vars, func(v Var, lo, hi int) {
			for i := lo; i < hi; i++ {
				v.Grad[i] += wd * v.Value[i]
			}
		})
	}
}

// clipScale returns the factor clipping by global norm scales gradients
// by, from their sum of squares: ClipNorm/(norm + 1e-6) where that is
// below 1 (PyTorch's clip_grad_norm_), else 1.
func (r *Regularization) clipScale(sq float64) float64 {
	if r.ClipNorm > 0 {
		if s := r.ClipNorm / (math.Sqrt(sq) + 1e-6); s < 1 {
			return s
		}
	}
	return 1
}

// clip applies clipping by global norm and by value to the gradients of
// vars.
func (r *Regularization) clip(vars []Var) {
	if r.ClipNorm > 0 {
		sq := 0.0
		for _, v := range vars {
			for _, g := range v.Grad {
				sq += g * g
			}
		}
		if s := r.clipScale(sq); s != 1 {
			for _, v := range vars {
				for i := range v.Grad {
					v.Grad[i] *= s
				}
			}
		}
	}
	if c := r.ClipValue; c > 0 {
		each(vars, func(v Var, lo, hi int) {
			for i := lo; i < hi; i++ {
				v.Grad[i] = math.Max(-c, math.Min(c, v.Grad[i]))
			}
		})
	}
}

// slots holds per-variable optimizer state, created on first use.
type slots struct {
	names []string
	m     map[string][]float64
	step  float64
}

func (s *slots) get(kind string, v Var) []float64 { return s.getN(kind, v.Name, len(v.Value)) }

// getN returns the n-value state of kind for the variable called name.
func (s *slots) getN(kind, name string, n int) []float64 {
	if s.m == nil {
		s.m = map[string][]float64{}
	}
	key := kind + "/" + name
	buf, ok := s.m[key]
	if !ok || len(buf) != n {
		buf = make([]float64, n)
		s.m[key] = buf
	}
	return buf
}

func (s *slots) state() map[string][]float64 {
	out := map[string][]float64{"step": {s.step}}
	for k, v := range s.m {
		out[k] = append([]float64(nil), v...)
	}
	return out
}

// setState restores st, whose entries other than "step" must be
// "<kind>/<variable>" with one of kinds, the optimizer's slot kinds.
func (s *slots) setState(opt string, st map[string][]float64, kinds ...string) error {
	step, ok := st["step"]
	if !ok {
		return errors.Errorf("train: %s state: no step count", opt)
	}
	if len(step) != 1 || !(step[0] >= 0) || math.IsInf(step[0], 0) || step[0] != math.Trunc(step[0]) {
		return errors.Errorf("train: %s state: step %v must be one whole non-negative number", opt, step)
	}
	for k := range st {
		if kind, _, ok := strings.Cut(k, "/"); k != "step" && (!ok || !slices.Contains(kinds, kind)) {
			return errors.Errorf("train: %s state: unknown entry %q (it keeps %s)", opt, k, slotNames(kinds))
		}
	}
	s.m = map[string][]float64{}
	s.step = step[0]
	for k, v := range st {
		if k != "step" {
			s.m[k] = append([]float64(nil), v...)
		}
	}
	return nil
}

// slotNames describes the state entries of an optimizer with kinds.
func slotNames(kinds []string) string {
	if len(kinds) == 0 {
		return "only step"
	}
	return "step and " + strings.Join(kinds, "/<variable>, ") + "/<variable>"
}

// checkUpdate returns the error, naming the optimizer, of a step with
// learning rate lr over n variables: lr must be positive and finite, and
// there must be something to update. checkStep and checkData share it.
func checkUpdate(opt string, lr float64, n int) error {
	if !(lr > 0) || math.IsInf(lr, 0) {
		return errors.Errorf("train: %s: learning rate %g: must be positive and finite", opt, lr)
	}
	if n == 0 {
		return errors.Errorf("train: %s: no variables to update", opt)
	}
	return nil
}

// checkStep returns an error, naming the optimizer, if lr is not positive
// and finite, if vars is empty or if a variable's value and gradient
// differ in length.
func checkStep(opt string, lr float64, vars []Var) error {
	if err := checkUpdate(opt, lr, len(vars)); err != nil {
		return err
	}
	for _, v := range vars {
		if len(v.Value) != len(v.Grad) {
			return errors.Errorf("train: %s: variable %q has %d values and %d gradients", opt, v.Name, len(v.Value), len(v.Grad))
		}
	}
	return nil
}

// The default learning rates, used where an optimizer's LR is 0.
const (
	defaultSGDLR      = 1e-2 // Keras's SGD
	defaultMomentumLR = 1e-2 // Keras's SGD
	defaultAdamLR     = 1e-3 // PyTorch's and Keras's
	defaultRMSPropLR  = 1e-3 // Keras's (PyTorch's is 1e-2)
	defaultAdaGradLR  = 1e-2 // PyTorch's (Keras's is 1e-3)
)

// The six optimizers implement Optimizer.
var (
	_ Optimizer = (*SGD)(nil)
	_ Optimizer = (*Momentum)(nil)
	_ Optimizer = (*Adam)(nil)
	_ Optimizer = (*AdamW)(nil)
	_ Optimizer = (*RMSProp)(nil)
	_ Optimizer = (*AdaGrad)(nil)
)

// SGD is plain stochastic gradient descent: w -= lr·g.
type SGD struct {
	LR float64 // learning rate; 0 means 1e-2 (Keras's SGD default)
	Regularization
	slots
}

// Momentum is SGD with (optionally Nesterov) momentum, as PyTorch defines
// it: v = μ·v + g; w -= lr·v (Nesterov: w -= lr·(g + μ·v)).
type Momentum struct {
	LR       float64 // learning rate; 0 means 1e-2 (Keras's SGD default)
	Mu       float64 // default 0.9
	Nesterov bool
	Regularization
	slots
}

// Adam is Kingma and Ba's Adam with bias correction (PyTorch's defaults).
type Adam struct {
	LR      float64 // learning rate; 0 means 1e-3 (PyTorch's and Keras's)
	Beta1   float64 // default 0.9
	Beta2   float64 // default 0.999
	Epsilon float64 // default 1e-8
	Regularization
	slots
}

// AdamW is Adam with decoupled weight decay (Loshchilov and Hutter),
// PyTorch's torch.optim.AdamW: each step first shrinks every weight by
// the factor 1 − lr·WeightDecay, then takes Adam's step, which the decay
// does not enter (unlike Adam's L2 WeightDecay, which the moments
// normalise away). The weight decay is Regularization's WeightDecay, 0
// meaning PyTorch's default 0.01; like PyTorch's it decays every
// parameter it is given. Clipping applies as to every optimizer.
type AdamW struct {
	LR      float64 // learning rate; 0 means 1e-3 (PyTorch's)
	Beta1   float64 // default 0.9
	Beta2   float64 // default 0.999
	Epsilon float64 // default 1e-8
	Regularization
	slots
}

// defaultAdamWDecay is AdamW's weight decay where WeightDecay is 0.
const defaultAdamWDecay = 0.01

// RMSProp divides the gradient by a running RMS of its recent values:
// s = ρ·s + (1-ρ)·g²; w -= lr·g/(sqrt(s)+ε) (PyTorch's formulation).
// Its default learning rate is Keras's 1e-3 rather than PyTorch's 1e-2:
// the same as Adam's (Keras uses 1e-3 for both), whose update has the same
// scale (a gradient over a running RMS of gradients), and the safer of the
// two.
type RMSProp struct {
	LR      float64 // learning rate; 0 means 1e-3 (Keras's; PyTorch's is 1e-2)
	Rho     float64 // default 0.99, as PyTorch's alpha
	Epsilon float64 // default 1e-8
	Regularization
	slots
}

// AdaGrad scales each step by the root of the sum of past squared
// gradients: s += g²; w -= lr·g/(sqrt(s)+ε). Unlike Gorgonia's AdaGrad,
// it honours clipping and weight decay.
type AdaGrad struct {
	LR      float64 // learning rate; 0 means 1e-2 (PyTorch's; Keras's is 1e-3)
	Epsilon float64 // default 1e-10
	Regularization
	slots
}

func or(v, def float64) float64 {
	if v == 0 {
		return def
	}
	return v
}

// Names, learning rates and shared options.

// Name implements Optimizer.
func (o *SGD) Name() string { return "sgd" }

// Name implements Optimizer.
func (o *Momentum) Name() string { return "momentum" }

// Name implements Optimizer.
func (o *Adam) Name() string { return "adam" }

// Name implements Optimizer.
func (o *AdamW) Name() string { return "adamw" }

// Name implements Optimizer.
func (o *RMSProp) Name() string { return "rmsprop" }

// Name implements Optimizer.
func (o *AdaGrad) Name() string { return "adagrad" }

// LearningRate implements Optimizer: LR, or 1e-2 where LR is 0.
func (o *SGD) LearningRate() float64 { return or(o.LR, defaultSGDLR) }

// LearningRate implements Optimizer: LR, or 1e-2 where LR is 0.
func (o *Momentum) LearningRate() float64 { return or(o.LR, defaultMomentumLR) }

// LearningRate implements Optimizer: LR, or 1e-3 where LR is 0.
func (o *Adam) LearningRate() float64 { return or(o.LR, defaultAdamLR) }

// LearningRate implements Optimizer: LR, or 1e-3 where LR is 0.
func (o *AdamW) LearningRate() float64 { return or(o.LR, defaultAdamLR) }

// LearningRate implements Optimizer: LR, or 1e-3 where LR is 0.
func (o *RMSProp) LearningRate() float64 { return or(o.LR, defaultRMSPropLR) }

// LearningRate implements Optimizer: LR, or 1e-2 where LR is 0.
func (o *AdaGrad) LearningRate() float64 { return or(o.LR, defaultAdaGradLR) }

// SetLearningRate implements Optimizer.
func (o *SGD) SetLearningRate(lr float64) { o.LR = lr }

// SetLearningRate implements Optimizer.
func (o *Momentum) SetLearningRate(lr float64) { o.LR = lr }

// SetLearningRate implements Optimizer.
func (o *Adam) SetLearningRate(lr float64) { o.LR = lr }

// SetLearningRate implements Optimizer.
func (o *AdamW) SetLearningRate(lr float64) { o.LR = lr }

// SetLearningRate implements Optimizer.
func (o *RMSProp) SetLearningRate(lr float64) { o.LR = lr }

// SetLearningRate implements Optimizer.
func (o *AdaGrad) SetLearningRate(lr float64) { o.LR = lr }

// Options implements Optimizer.
func (r *Regularization) Options() *Regularization { return r }

// State implements Optimizer.
func (s *slots) State() map[string][]float64 { return s.state() }

// SetState implements Optimizer.
func (o *SGD) SetState(st map[string][]float64) error { return o.setState(o.Name(), st) }

// SetState implements Optimizer.
func (o *Momentum) SetState(st map[string][]float64) error {
	return o.setState(o.Name(), st, "momentum")
}

// SetState implements Optimizer.
func (o *Adam) SetState(st map[string][]float64) error { return o.setState(o.Name(), st, "m", "v") }

// SetState implements Optimizer.
func (o *AdamW) SetState(st map[string][]float64) error { return o.setState(o.Name(), st, "m", "v") }

// SetState implements Optimizer.
func (o *RMSProp) SetState(st map[string][]float64) error {
	return o.setState(o.Name(), st, "square_avg")
}

// SetState implements Optimizer.
func (o *AdaGrad) SetState(st map[string][]float64) error { return o.setState(o.Name(), st, "sum") }

// Step implements Optimizer.
func (o *SGD) Step(vars []Var) error {
	lr := o.LearningRate()
	if err := checkStep(o.Name(), lr, vars); err != nil {
		return err
	}
	o.prepare(vars)
	o.step++
	each(vars, func(v Var, lo, hi int) {
		for j := lo; j < hi; j++ {
			v.Value[j] -= lr * v.Grad[j]
		}
	})
	return nil
}

// Step implements Optimizer.
func (o *Momentum) Step(vars []Var) error {
	lr := o.LearningRate()
	if err := checkStep(o.Name(), lr, vars); err != nil {
		return err
	}
	o.prepare(vars)
	o.step++
	mu := or(o.Mu, 0.9)
	for _, v := range vars {
		buf := o.get("momentum", v)
		kernels.ParallelFor(len(v.Value), 1<<14, func(lo, hi int) {
			for j := lo; j < hi; j++ {
				g := v.Grad[j]
				buf[j] = mu*buf[j] + g
				if o.Nesterov {
					v.Value[j] -= lr * (g + mu*buf[j])
				} else {
					v.Value[j] -= lr * buf[j]
				}
			}
		})
	}
	return nil
}

// Step implements Optimizer.
func (o *Adam) Step(vars []Var) error {
	lr := o.LearningRate()
	if err := checkStep(o.Name(), lr, vars); err != nil {
		return err
	}
	o.prepare(vars)
	o.step++
	b1, b2, eps := or(o.Beta1, 0.9), or(o.Beta2, 0.999), or(o.Epsilon, 1e-8)
	lrc := lr / (1 - math.Pow(b1, o.step))
	c2inv := 1 / math.Sqrt(1-math.Pow(b2, o.step))
	for _, v := range vars {
		m, s := o.get("m", v), o.get("v", v)
		kernels.ParallelFor(len(v.Value), 1<<14, func(lo, hi int) {
			kernels.AdamUpdate(v.Value[lo:hi], v.Grad[lo:hi], m[lo:hi], s[lo:hi], b1, b2, lrc, c2inv, eps)
		})
	}
	return nil
}

// Step implements Optimizer.
func (o *AdamW) Step(vars []Var) error {
	lr := o.LearningRate()
	if err := checkStep(o.Name(), lr, vars); err != nil {
		return err
	}
	o.clip(vars)
	o.step++
	b1, b2, eps, decay, lrc, c2inv := o.params(lr)
	for _, v := range vars {
		m, s := o.get("m", v), o.get("v", v)
		kernels.ParallelFor(len(v.Value), 1<<14, func(lo, hi int) {
			kernels.AdamWUpdate(v.Value[lo:hi], v.Grad[lo:hi], m[lo:hi], s[lo:hi], 1, decay, b1, b2, lrc, c2inv, eps)
		})
	}
	return nil
}

// params returns AdamW's hyperparameters, its decay factor and its bias
// corrections for the step just counted, at learning rate lr.
func (o *AdamW) params(lr float64) (b1, b2, eps, decay, lrc, c2inv float64) {
	b1, b2, eps = or(o.Beta1, 0.9), or(o.Beta2, 0.999), or(o.Epsilon, 1e-8)
	decay = 1 - lr*or(o.WeightDecay, defaultAdamWDecay)
	return b1, b2, eps, decay, lr / (1 - math.Pow(b1, o.step)), 1 / math.Sqrt(1-math.Pow(b2, o.step))
}

// Step implements Optimizer.
func (o *RMSProp) Step(vars []Var) error {
	lr := o.LearningRate()
	if err := checkStep(o.Name(), lr, vars); err != nil {
		return err
	}
	o.prepare(vars)
	o.step++
	rho, eps := or(o.Rho, 0.99), or(o.Epsilon, 1e-8)
	for _, v := range vars {
		s := o.get("square_avg", v)
		kernels.ParallelFor(len(v.Value), 1<<14, func(lo, hi int) {
			for j := lo; j < hi; j++ {
				g := v.Grad[j]
				s[j] = rho*s[j] + (1-rho)*g*g
				v.Value[j] -= lr * g / (math.Sqrt(s[j]) + eps)
			}
		})
	}
	return nil
}

// Step implements Optimizer.
func (o *AdaGrad) Step(vars []Var) error {
	lr := o.LearningRate()
	if err := checkStep(o.Name(), lr, vars); err != nil {
		return err
	}
	o.prepare(vars)
	o.step++
	eps := or(o.Epsilon, 1e-10)
	for _, v := range vars {
		s := o.get("sum", v)
		kernels.ParallelFor(len(v.Value), 1<<14, func(lo, hi int) {
			for j := lo; j < hi; j++ {
				g := v.Grad[j]
				s[j] += g * g
				v.Value[j] -= lr * g / (math.Sqrt(s[j]) + eps)
			}
		})
	}
	return nil
}

var optimizers = map[string]func(lr float64) Optimizer{
	"sgd":      func(lr float64) Optimizer { return &SGD{LR: lr} },
	"momentum": func(lr float64) Optimizer { return &Momentum{LR: lr} },
	"adam":     func(lr float64) Optimizer { return &Adam{LR: lr} },
	"adamw":    func(lr float64) Optimizer { return &AdamW{LR: lr} },
	"rmsprop":  func(lr float64) Optimizer { return &RMSProp{LR: lr} },
	"adagrad":  func(lr float64) Optimizer { return &AdaGrad{LR: lr} },
}

// OptimizerNames lists the names OptimizerByName accepts.
func OptimizerNames() []string {
	var n []string
	for k := range optimizers {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

// OptimizerByName returns a new optimizer: sgd, momentum, adam, adamw,
// rmsprop or adagrad, with learning rate lr (0: the optimizer's default, as in its
// literal) and default hyperparameters.
func OptimizerByName(name string, lr float64) (Optimizer, error) {
	f, ok := optimizers[strings.ToLower(name)]
	if !ok {
		return nil, fmt.Errorf("unknown optimizer %q (known: %s)", name, strings.Join(OptimizerNames(), ", "))
	}
	if lr < 0 || math.IsNaN(lr) || math.IsInf(lr, 0) {
		return nil, fmt.Errorf("learning rate %g: must be positive", lr)
	}
	return f(lr), nil
}
