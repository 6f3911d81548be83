// Package gradcheck holds test helpers for dlrun's ops and layers: Check
// compares the gradients that Gorgonia computes symbolically with central
// finite differences, and Forward runs a graph once and returns a node's
// values. Graphs under check should be float64.
package gradcheck

import (
	"fmt"
	"math"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Check differentiates the scalar loss with respect to each node of wrt
// (parameters or inputs, all with float64 values bound) and compares every
// element of every gradient with (f(x+eps) - f(x-eps)) / 2eps. It returns
// an error naming the first node and element whose relative difference
// exceeds tol, and the number of elements compared.
func Check(g *gorgonia.ExprGraph, loss *gorgonia.Node, wrt gorgonia.Nodes, eps, tol float64) (int, error) {
	grads, err := gorgonia.Grad(loss, wrt...)
	if err != nil {
		return 0, errors.Wrap(err, "symbolic gradient")
	}
	var lossV gorgonia.Value
	gorgonia.Read(loss, &lossV)
	gradV := make([]gorgonia.Value, len(grads))
	for i, gn := range grads {
		gorgonia.Read(gn, &gradV[i])
	}
	vm := gorgonia.NewTapeMachine(g)
	defer vm.Close()
	run := func() (float64, error) {
		vm.Reset()
		if err := vm.RunAll(); err != nil {
			return 0, err
		}
		return scalar(lossV)
	}
	if _, err := run(); err != nil {
		return 0, errors.Wrap(err, "forward and backward")
	}
	analytic := make([][]float64, len(wrt))
	for i := range wrt {
		d, ok := gradV[i].(*tensor.Dense)
		if !ok {
			v, err := scalar(gradV[i])
			if err != nil {
				return 0, err
			}
			analytic[i] = []float64{v}
			continue
		}
		analytic[i] = append([]float64(nil), d.Data().([]float64)...)
	}
	count := 0
	for i, n := range wrt {
		x, ok := n.Value().(*tensor.Dense)
		if !ok {
			return count, errors.Errorf("%s: value is %T, want a float64 tensor", n.Name(), n.Value())
		}
		data, ok := x.Data().([]float64)
		if !ok {
			return count, errors.Errorf("%s: value is %v, want float64", n.Name(), x.Dtype())
		}
		for j := range data {
			orig := data[j]
			data[j] = orig + eps
			fp, err := run()
			if err != nil {
				return count, err
			}
			data[j] = orig - eps
			fm, err := run()
			if err != nil {
				return count, err
			}
			data[j] = orig
			num := (fp - fm) / (2 * eps)
			a := analytic[i][j]
			scale := math.Max(1, math.Max(math.Abs(a), math.Abs(num)))
			if math.Abs(a-num) > tol*scale {
				return count, fmt.Errorf("%s[%d]: symbolic gradient %.8g, finite difference %.8g", n.Name(), j, a, num)
			}
			count++
		}
	}
	return count, nil
}

func scalar(v gorgonia.Value) (float64, error) {
	switch s := v.(type) {
	case *gorgonia.F64:
		return float64(*s), nil
	case *gorgonia.F32:
		return float64(*s), nil
	case *tensor.Dense:
		if s.Shape().TotalSize() == 1 {
			switch d := s.Data().(type) {
			case []float64:
				return d[0], nil
			case float64:
				return d, nil
			}
		}
	}
	return 0, errors.Errorf("loss value %v (%T) is not a scalar", v, v)
}

// Forward runs the graph g once and returns a copy of the float64 values
// of y: the forward checks' counterpart of Check.
func Forward(g *gorgonia.ExprGraph, y *gorgonia.Node) ([]float64, error) {
	var out gorgonia.Value
	gorgonia.Read(y, &out)
	vm := gorgonia.NewTapeMachine(g)
	defer vm.Close()
	if err := vm.RunAll(); err != nil {
		return nil, err
	}
	d, ok := out.Data().([]float64)
	if !ok {
		return nil, errors.Errorf("%s is %T, want float64 values", y.Name(), out.Data())
	}
	return append([]float64(nil), d...), nil
}
