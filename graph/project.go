package graph

import (
	"fmt"

	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// Project returns x·wᵀ + b, PyTorch's F.linear: x is [..., in], the
// weight w is [out, in] (PyTorch's layout, the transpose of a Dense
// weight) and the bias b, if not nil, [out]; the output is [..., out]. Every row of x
// (all leading axes together) is one row of a single matrix product on the
// blocked gemm. x, w and b are differentiable: dx = dy·w, dw = dyᵀ·x and
// db the sum of dy's rows.
func Project(x, w, b *Node) (*Node, error) {
	nodes := []*gorgonia.Node{x, w}
	if b != nil {
		nodes = append(nodes, b)
	}
	if err := checkNodes("project", nodes...); err != nil {
		return nil, err
	}
	sx, sw := x.Shape(), w.Shape()
	if x.IsScalar() || sx.Dims() < 1 {
		return nil, &ShapeError{"project", w.Name(), sx, sw, "the input must have at least one axis"}
	}
	in := sx[sx.Dims()-1]
	if sw.Dims() != 2 || sw[1] != in {
		return nil, &ShapeError{"project", w.Name(), sx, sw, fmt.Sprintf("the weight must be [out, %d], as many columns as the input's last axis", in)}
	}
	out := sw[0]
	if b != nil {
		if sb := b.Shape(); sb.Dims() != 1 || sb[0] != out {
			return nil, &ShapeError{"project", b.Name(), sw, sb, fmt.Sprintf("the bias must be a vector of %d values", out)}
		}
	}
	rows := sx.TotalSize() / in
	flat := x
	if sx.Dims() != 2 {
		var err error
		if flat, err = Reshape(x, rows, in); err != nil {
			return nil, err
		}
	}
	y, err := apply(projectKernel{matmulKernel{transB: true, m: rows, n: out, k: in}}, tensor.Shape{rows, out}, flat, w)
	if err != nil {
		return nil, err
	}
	if b != nil {
		if y, err = AddBias(y, b); err != nil {
			return nil, err
		}
	}
	if sx.Dims() == 2 {
		return y, nil
	}
	shape := append([]int(sx[:sx.Dims()-1].Clone()), out)
	return Reshape(y, shape...)
}

// projectKernel is x·wᵀ for x [m, k] and w [n, k].
type projectKernel struct{ mm matmulKernel }

func (k projectKernel) name() string       { return fmt.Sprintf("Project(%d,%d,%d)", k.mm.m, k.mm.n, k.mm.k) }
func (k projectKernel) diffWRT(int) []bool { return []bool{true, true} }
func (k projectKernel) do(out *tensor.Dense, in []*tensor.Dense) error {
	return k.mm.do(out, in)
}
func (k projectKernel) grad(in gorgonia.Nodes, _, g *gorgonia.Node) (gorgonia.Nodes, error) {
	m, n, kk := k.mm.m, k.mm.n, k.mm.k
	// dx = dy·w ([m, n]·[n, k]), dw = dyᵀ·x ([n, m]·[m, k]).
	dx, err := apply(matmulKernel{m: m, n: kk, k: n}, tensor.Shape{m, kk}, g, in[1])
	if err != nil {
		return nil, err
	}
	dw, err := apply(matmulKernel{transA: true, m: n, n: kk, k: m}, tensor.Shape{n, kk}, g, in[0])
	return gorgonia.Nodes{dx, dw}, err
}
