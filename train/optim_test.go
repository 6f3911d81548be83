package train_test

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/train"
)

// Each optimizer's first two steps on w=[1,-2], g=[0.5,-1] then g=[0.25,0.5],
// against values worked out by hand from the update rules.
func TestOptimizerSteps(t *testing.T) {
	sqrt := math.Sqrt
	cases := []struct {
		opt  train.Optimizer
		want [2][]float64 // w after step 1 and step 2
	}{
		{&train.SGD{LR: 0.1}, [2][]float64{{0.95, -1.9}, {0.925, -1.95}}},
		{&train.Momentum{LR: 0.1, Mu: 0.9}, [2][]float64{{0.95, -1.9}, {0.95 - 0.1*(0.45+0.25), -1.9 - 0.1*(-0.9+0.5)}}},
		{&train.Adam{LR: 0.1}, [2][]float64{{1 - 0.05/(0.5+1e-8), -2 + 0.1/(1+1e-8)}, {
			1 - 0.05/(0.5+1e-8) - 0.1*((0.9*0.05+0.025)/(1-0.81))/(sqrt((0.999*0.00025+0.001*0.0625)/(1-0.998001))+1e-8),
			-2 + 0.1/(1+1e-8) - 0.1*((0.9*-0.1+0.05)/(1-0.81))/(sqrt((0.999*0.001+0.001*0.25)/(1-0.998001))+1e-8),
		}}},
		// AdamW shrinks w by 1 − 0.1·0.5 = 0.95 before Adam's step.
		{&train.AdamW{LR: 0.1, Regularization: train.Regularization{WeightDecay: 0.5}}, [2][]float64{{0.95 - 0.05/(0.5+1e-8), -1.9 + 0.1/(1+1e-8)}, {
			(0.95-0.05/(0.5+1e-8))*0.95 - 0.1*((0.9*0.05+0.025)/(1-0.81))/(sqrt((0.999*0.00025+0.001*0.0625)/(1-0.998001))+1e-8),
			(-1.9+0.1/(1+1e-8))*0.95 - 0.1*((0.9*-0.1+0.05)/(1-0.81))/(sqrt((0.999*0.001+0.001*0.25)/(1-0.998001))+1e-8),
		}}},
		{&train.RMSProp{LR: 0.1, Rho: 0.9}, [2][]float64{
			{1 - 0.1*0.5/(sqrt(0.1*0.25)+1e-8), -2 + 0.1/(sqrt(0.1)+1e-8)},
			{1 - 0.1*0.5/(sqrt(0.1*0.25)+1e-8) - 0.1*0.25/(sqrt(0.9*0.025+0.1*0.0625)+1e-8),
				-2 + 0.1/(sqrt(0.1)+1e-8) - 0.1*0.5/(sqrt(0.9*0.1+0.1*0.25)+1e-8)}}},
		{&train.AdaGrad{LR: 0.1}, [2][]float64{
			{1 - 0.05/(0.5+1e-10), -2 + 0.1/(1+1e-10)},
			{1 - 0.05/(0.5+1e-10) - 0.1*0.25/(sqrt(0.3125)+1e-10), -2 + 0.1/(1+1e-10) - 0.1*0.5/(sqrt(1.25)+1e-10)}}},
	}
	for _, c := range cases {
		t.Run(c.opt.Name(), func(t *testing.T) {
			w := []float64{1, -2}
			for step, g := range [][]float64{{0.5, -1}, {0.25, 0.5}} {
				if err := c.opt.Step([]train.Var{{Name: "w", Value: w, Grad: append([]float64(nil), g...)}}); err != nil {
					t.Fatal(err)
				}
				for i := range w {
					if math.Abs(w[i]-c.want[step][i]) > 1e-12 {
						t.Fatalf("step %d: w = %v, want %v", step+1, w, c.want[step])
					}
				}
			}
		})
	}
}

// Clipping and weight decay apply to every optimizer, AdaGrad included.
func TestRegularizationAppliesToEveryOptimizer(t *testing.T) {
	for _, name := range train.OptimizerNames() {
		t.Run(name, func(t *testing.T) {
			step := func(reg train.Regularization, g []float64) []float64 {
				opt, err := train.OptimizerByName(name, 0.1)
				if err != nil {
					t.Fatal(err)
				}
				*opt.Options() = reg
				w := []float64{1, -2}
				if err := opt.Step([]train.Var{{Name: "w", Value: w, Grad: append([]float64(nil), g...)}}); err != nil {
					t.Fatal(err)
				}
				return w
			}
			same := func(a, b []float64) bool { return math.Abs(a[0]-b[0]) < 1e-12 && math.Abs(a[1]-b[1]) < 1e-12 }
			// Clipping by value to 0.5 is the same as a gradient of [0.5, -0.5].
			if a, b := step(train.Regularization{ClipValue: 0.5}, []float64{3, -4}), step(train.Regularization{}, []float64{0.5, -0.5}); !same(a, b) {
				t.Errorf("clip value: %v, want %v", a, b)
			}
			// Clipping [3, -4] (norm 5) to norm 1 is the same as [0.6, -0.8].
			if a, b := step(train.Regularization{ClipNorm: 1}, []float64{3, -4}), step(train.Regularization{}, []float64{0.6, -0.8}); math.Abs(a[0]-b[0]) > 1e-6 || math.Abs(a[1]-b[1]) > 1e-6 {
				t.Errorf("clip norm: %v, want %v", a, b)
			}
			// Weight decay 0.1 adds 0.1·w = [0.1, -0.2] to the gradient;
			// AdamW's is decoupled (TestOptimizerSteps).
			if name == "adamw" {
				return
			}
			if a, b := step(train.Regularization{WeightDecay: 0.1}, []float64{0.3, 0.3}), step(train.Regularization{}, []float64{0.4, 0.1}); !same(a, b) {
				t.Errorf("weight decay: %v, want %v", a, b)
			}
		})
	}
}

func TestOptimizerAndLossNames(t *testing.T) {
	if _, err := train.OptimizerByName("adamax", 0.1); err == nil || !strings.Contains(err.Error(), "adamax") {
		t.Errorf("unknown optimizer: %v", err)
	}
	if _, err := train.OptimizerByName("adam", -1); err == nil {
		t.Error("negative learning rate accepted")
	}
	for name, want := range map[string]string{"categorical_crossentropy": "cce", "BCE": "bce", "mse": "mse"} {
		l, err := train.LossByName(name)
		if err != nil || l.Name != want {
			t.Errorf("%s: %v %v", name, l.Name, err)
		}
	}
	if _, err := train.LossByName("hinge"); err == nil || !strings.Contains(err.Error(), "hinge") {
		t.Errorf("unknown loss: %v", err)
	}
}

// twoSteps returns w after two steps of opt on w=[1,-2], g=[0.5,-1] then
// g=[0.25,0.5].
func twoSteps(t *testing.T, opt train.Optimizer) []float64 {
	t.Helper()
	w := []float64{1, -2}
	for _, g := range [][]float64{{0.5, -1}, {0.25, 0.5}} {
		if err := opt.Step([]train.Var{{Name: "w", Value: w, Grad: append([]float64(nil), g...)}}); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

// A zero LR means the optimizer's documented default, to the bit.
func TestZeroLearningRateMeansTheDefault(t *testing.T) {
	for _, c := range []struct {
		zero, explicit train.Optimizer
		lr             float64
	}{
		{&train.SGD{}, &train.SGD{LR: 1e-2}, 1e-2},
		{&train.Momentum{}, &train.Momentum{LR: 1e-2}, 1e-2},
		{&train.Momentum{Nesterov: true}, &train.Momentum{LR: 1e-2, Nesterov: true}, 1e-2},
		{&train.Adam{}, &train.Adam{LR: 1e-3}, 1e-3},
		{&train.AdamW{}, &train.AdamW{LR: 1e-3, Regularization: train.Regularization{WeightDecay: 0.01}}, 1e-3},
		{&train.RMSProp{}, &train.RMSProp{LR: 1e-3}, 1e-3},
		{&train.AdaGrad{}, &train.AdaGrad{LR: 1e-2}, 1e-2},
	} {
		t.Run(c.zero.Name(), func(t *testing.T) {
			if lr := c.zero.LearningRate(); lr != c.lr {
				t.Errorf("LearningRate() = %g, want %g", lr, c.lr)
			}
			a, b := twoSteps(t, c.zero), twoSteps(t, c.explicit)
			for i := range a {
				if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
					t.Fatalf("default LR: w = %v, LR %g: w = %v", a, c.lr, b)
				}
			}
			if a[0] == 1 || a[1] == -2 {
				t.Fatalf("w = %v did not move", a)
			}
			c.zero.SetLearningRate(0.5)
			if lr := c.zero.LearningRate(); lr != 0.5 {
				t.Errorf("after SetLearningRate(0.5): %g", lr)
			}
			c.zero.SetLearningRate(0)
			if lr := c.zero.LearningRate(); lr != c.lr {
				t.Errorf("after SetLearningRate(0): %g, want %g", lr, c.lr)
			}
		})
	}
}

func TestBadStepsAreErrors(t *testing.T) {
	for _, name := range train.OptimizerNames() {
		t.Run(name, func(t *testing.T) {
			opt, err := train.OptimizerByName(name, 0.1)
			if err != nil {
				t.Fatal(err)
			}
			check := func(what string, vars []train.Var, want string) {
				t.Helper()
				var before [][]float64
				for _, v := range vars {
					before = append(before, append([]float64(nil), v.Value...))
				}
				var err error
				func() {
					defer func() {
						if r := recover(); r != nil {
							t.Errorf("%s: panic: %v", what, r)
						}
					}()
					err = opt.Step(vars)
				}()
				if err == nil || !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), want) {
					t.Errorf("%s: error %v, want one naming %s and %q", what, err, name, want)
				}
				for i, v := range vars {
					for j := range v.Value {
						if v.Value[j] != before[i][j] {
							t.Errorf("%s: %s changed to %v", what, v.Name, v.Value)
						}
					}
				}
			}
			w := func() []float64 { return []float64{1, -2} }
			check("nil vars", nil, "no variables")
			check("no vars", []train.Var{}, "no variables")
			check("short gradient", []train.Var{{Name: "w", Value: w(), Grad: []float64{1}}}, `"w" has 2 values and 1 gradients`)
			check("nil gradient", []train.Var{{Name: "a", Value: w(), Grad: w()}, {Name: "b", Value: w()}}, `"b"`)
			check("long gradient", []train.Var{{Name: "w", Value: w(), Grad: []float64{1, 2, 3}}}, `"w"`)
			for _, lr := range []float64{-1, -1e-300, math.NaN(), math.Inf(1), math.Inf(-1)} {
				opt.SetLearningRate(lr)
				check(fmt.Sprintf("lr %g", lr), []train.Var{{Name: "w", Value: w(), Grad: w()}}, "learning rate")
			}
			if st := opt.State(); st["step"][0] != 0 {
				t.Errorf("failed steps counted: step %v", st["step"])
			}
		})
	}
	for _, lr := range []float64{-1, math.NaN(), math.Inf(1)} {
		if _, err := train.OptimizerByName("adam", lr); err == nil {
			t.Errorf("OptimizerByName(adam, %g) accepted", lr)
		}
	}
	if opt, err := train.OptimizerByName("adam", 0); err != nil || opt.LearningRate() != 1e-3 {
		t.Errorf("OptimizerByName(adam, 0): %v, %v; want Adam's default rate 1e-3", opt, err)
	}
}

func TestSetStateChecksItsInput(t *testing.T) {
	opts := map[string]func() train.Optimizer{
		"sgd":      func() train.Optimizer { return &train.SGD{} },
		"momentum": func() train.Optimizer { return &train.Momentum{} },
		"adam":     func() train.Optimizer { return &train.Adam{} },
		"rmsprop":  func() train.Optimizer { return &train.RMSProp{} },
		"adagrad":  func() train.Optimizer { return &train.AdaGrad{} },
	}
	for name, mk := range opts {
		t.Run(name, func(t *testing.T) {
			// A state round-trips into a fresh optimizer, which then steps
			// exactly as the original does.
			a := mk()
			twoSteps(t, a)
			b := mk()
			if err := b.SetState(a.State()); err != nil {
				t.Fatal(err)
			}
			wa, wb := twoSteps(t, a), twoSteps(t, b)
			if wa[0] != wb[0] || wa[1] != wb[1] {
				t.Errorf("restored optimizer steps to %v, the original to %v", wb, wa)
			}
			good := a.State()
			for what, st := range map[string]map[string][]float64{
				"nil":              nil,
				"no step":          {},
				"two steps":        {"step": {1, 2}},
				"negative step":    {"step": {-1}},
				"fractional step":  {"step": {1.5}},
				"NaN step":         {"step": {math.NaN()}},
				"infinite step":    {"step": {math.Inf(1)}},
				"unknown entry":    {"step": {1}, "bogus": {1}},
				"another's slot":   {"step": {1}, map[bool]string{true: "m/w", false: "sum/w"}[name == "adagrad"]: {0, 0}},
				"slot of no shape": {"step": {1}, "/w": {0, 0}},
			} {
				func() {
					defer func() {
						if r := recover(); r != nil {
							t.Errorf("%s: panic: %v", what, r)
						}
					}()
					if err := b.SetState(st); err == nil || !strings.Contains(err.Error(), name) {
						t.Errorf("%s: error %v", what, err)
					}
				}()
			}
			// A refused state leaves the optimizer as it was.
			if got := b.State(); fmt.Sprint(got) != fmt.Sprint(good) {
				t.Errorf("after refused states: %v, want %v", got, good)
			}
		})
	}
}
