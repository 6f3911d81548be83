package graph

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
)

// An Initializer fills a new parameter's values from the graph's RNG.
// fanIn and fanOut are computed from the parameter's shape (see Graph.Param).
type Initializer interface {
	Fill(rng *rand.Rand, vals []float64, fanIn, fanOut int)
	String() string
}

// Fans returns the fan-in and fan-out that Graph.Param uses for shape.
func Fans(shape []int) (fanIn, fanOut int) {
	switch len(shape) {
	case 0:
		return 1, 1
	case 1:
		return shape[0], shape[0]
	case 2:
		return shape[0], shape[1]
	}
	recept := 1
	for _, d := range shape[2:] {
		recept *= d
	}
	return shape[1] * recept, shape[0] * recept
}

type constInit float64

func (c constInit) Fill(_ *rand.Rand, vals []float64, _, _ int) {
	for i := range vals {
		vals[i] = float64(c)
	}
}
func (c constInit) String() string {
	if c == 0 {
		return "zeros"
	}
	return fmt.Sprintf("constant(%g)", float64(c))
}

// Zeros initialises every value to 0 (the usual bias initialiser).
var Zeros Initializer = constInit(0)

// Constant initialises every value to v.
func Constant(v float64) Initializer { return constInit(v) }

type uniformInit struct {
	name  string
	bound func(fanIn, fanOut int) float64
}

func (u uniformInit) Fill(rng *rand.Rand, vals []float64, fanIn, fanOut int) {
	b := u.bound(fanIn, fanOut)
	for i := range vals {
		vals[i] = (2*rng.Float64() - 1) * b
	}
}
func (u uniformInit) String() string { return u.name }

type normalInit struct {
	name string
	std  func(fanIn, fanOut int) float64
}

func (n normalInit) Fill(rng *rand.Rand, vals []float64, fanIn, fanOut int) {
	s := n.std(fanIn, fanOut)
	for i := range vals {
		vals[i] = rng.NormFloat64() * s
	}
}
func (n normalInit) String() string { return n.name }

// Uniform draws from U(-limit, limit).
func Uniform(limit float64) Initializer {
	return uniformInit{fmt.Sprintf("uniform(%g)", limit), func(int, int) float64 { return limit }}
}

// Normal draws from N(0, std²).
func Normal(std float64) Initializer {
	return normalInit{fmt.Sprintf("normal(%g)", std), func(int, int) float64 { return std }}
}

// Initialisers by the names used in papers and in Keras and PyTorch.
var (
	// GlorotUniform (Xavier uniform): U(-a, a), a = sqrt(6/(fanIn+fanOut)).
	GlorotUniform Initializer = uniformInit{"glorot_uniform", func(i, o int) float64 { return math.Sqrt(6 / float64(i+o)) }}
	// GlorotNormal (Xavier normal): N(0, 2/(fanIn+fanOut)).
	GlorotNormal Initializer = normalInit{"glorot_normal", func(i, o int) float64 { return math.Sqrt(2 / float64(i+o)) }}
	// HeUniform (Kaiming uniform, for ReLU): U(-a, a), a = sqrt(6/fanIn).
	HeUniform Initializer = uniformInit{"he_uniform", func(i, _ int) float64 { return math.Sqrt(6 / float64(i)) }}
	// HeNormal (Kaiming normal, for ReLU): N(0, 2/fanIn).
	HeNormal Initializer = normalInit{"he_normal", func(i, _ int) float64 { return math.Sqrt(2 / float64(i)) }}
	// TorchDefault is PyTorch's default for nn.Linear and nn.Conv2d weights and
	// biases: U(-a, a), a = 1/sqrt(fanIn) of the layer's weight (biases pass the
	// weight's fan-in through Bounded).
	TorchDefault Initializer = uniformInit{"torch_default", func(i, _ int) float64 { return 1 / math.Sqrt(float64(i)) }}
)

// Bounded draws from U(-1/sqrt(fanIn), 1/sqrt(fanIn)) with a fan-in given
// explicitly rather than read off the parameter's shape; PyTorch initialises
// biases this way from the fan-in of their layer's weight.
func Bounded(fanIn int) Initializer {
	return uniformInit{fmt.Sprintf("bounded(%d)", fanIn), func(int, int) float64 { return 1 / math.Sqrt(float64(fanIn)) }}
}

// InitializerByName returns the named initialiser: zeros, glorot_uniform,
// glorot_normal, he_uniform, he_normal, torch_default, or normal(std),
// uniform(limit) or constant(v) with a finite number (std and limit
// positive), as Normal, Uniform and Constant name theirs: "normal(0.02)".
// Any other name, the empty one included, is an error.
func InitializerByName(name string) (Initializer, error) {
	known := []Initializer{Zeros, GlorotUniform, GlorotNormal, HeUniform, HeNormal, TorchDefault}
	for _, in := range known {
		if in.String() == name {
			return in, nil
		}
	}
	if kind, arg, ok := strings.Cut(strings.TrimSuffix(name, ")"), "("); ok && strings.HasSuffix(name, ")") {
		v, err := strconv.ParseFloat(arg, 64)
		finite := err == nil && !math.IsNaN(v) && !math.IsInf(v, 0)
		switch {
		case kind == "normal" && finite && v > 0:
			return Normal(v), nil
		case kind == "uniform" && finite && v > 0:
			return Uniform(v), nil
		case kind == "constant" && finite:
			return Constant(v), nil
		}
	}
	names := make([]string, len(known))
	for i, in := range known {
		names[i] = in.String()
	}
	return nil, fmt.Errorf("graph: unknown initialiser %q (known: %s, normal(std), uniform(limit), constant(v))", name, strings.Join(names, ", "))
}
