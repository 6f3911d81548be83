package train_test

import (
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
			// Weight decay 0.1 adds 0.1·w = [0.1, -0.2] to the gradient.
			if a, b := step(train.Regularization{WeightDecay: 0.1}, []float64{0.3, 0.3}), step(train.Regularization{}, []float64{0.4, 0.1}); !same(a, b) {
				t.Errorf("weight decay: %v, want %v", a, b)
			}
		})
	}
}

func TestOptimizerAndLossNames(t *testing.T) {
	if _, err := train.OptimizerByName("adamw", 0.1); err == nil || !strings.Contains(err.Error(), "adamw") {
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
