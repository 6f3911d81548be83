package graph

import (
	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
	"gorgonia.org/tensor"
)

// machine runs a compiled pass: the nodes of a subgraph in the order a
// Gorgonia tape machine runs them (its topological sort, reversed), each
// op called directly on its inputs' values. Gorgonia's tape machine runs
// every pass on a goroutine of its own while the caller's is locked to its
// OS thread, two thread hand-offs per pass that cost more than a small
// model's whole forward pass; it also reuses registers, so its outputs had
// to be copied out. Here each node keeps its own value until the next pass:
// dlrun's ops write into buffers of their own, Gorgonia's into the value
// they gave the pass before (UsePreallocDo) where they can.
type machine struct {
	steps []step
	vals  []gorgonia.Value
	args  []gorgonia.Value // scratch: one step's inputs
}

type step struct {
	n     *gorgonia.Node
	op    gorgonia.Op     // nil: an input (or parameter) node
	in    []int           // the steps whose values are this step's inputs
	into  *gorgonia.Value // a Read: where its input's value goes
	pre   gorgonia.Value  // the value of the last pass, for UsePreallocDo
	fresh bool            // the op's value may alias an input: no reuse
}

// newMachine prepares to run the nodes sub needs; reads maps each Read
// node of sub to the value it sets.
func newMachine(sub *gorgonia.ExprGraph, reads map[*gorgonia.Node]*gorgonia.Value) (*machine, error) {
	sorted, err := gorgonia.Sort(sub)
	if err != nil {
		return nil, errors.Wrap(err, "graph: ordering the pass")
	}
	m := &machine{steps: make([]step, len(sorted)), vals: make([]gorgonia.Value, len(sorted))}
	at := make(map[*gorgonia.Node]int, len(sorted))
	for i := range sorted {
		n := sorted[len(sorted)-1-i]
		at[n] = i
		s := step{n: n, op: n.Op(), into: reads[n]}
		for it := sub.From(n.ID()); it != nil && it.Next(); {
			c := it.Node().(*gorgonia.Node)
			j, ok := at[c]
			if !ok {
				return nil, errors.Errorf("graph: node %s runs before its input %s", n.Name(), c.Name())
			}
			s.in = append(s.in, j)
		}
		if s.into != nil && len(s.in) != 1 {
			return nil, errors.Errorf("graph: read node %s has %d inputs", n.Name(), len(s.in))
		}
		m.steps[i] = s
	}
	return m, nil
}

// run runs every step in order.
func (m *machine) run() error {
	for i := range m.steps {
		s := &m.steps[i]
		if s.op == nil {
			m.vals[i] = s.n.Value()
			continue
		}
		args := m.args[:0]
		for _, j := range s.in {
			args = append(args, m.vals[j])
		}
		m.args = args
		if s.into != nil {
			*s.into = args[0]
			continue
		}
		v, err := s.do(args)
		if err != nil {
			return errors.Wrapf(err, "graph: %s", s.n.Name())
		}
		m.vals[i] = v
	}
	clear(m.args)
	return nil
}

// do runs the step's op: a dlrun op writes into its own buffer; a
// Gorgonia op that can writes into the value of its last pass, unless
// that value shared memory with one of its inputs.
func (s *step) do(args []gorgonia.Value) (gorgonia.Value, error) {
	if _, own := s.op.(*op); own || s.fresh {
		return s.op.Do(args...)
	}
	if pd, ok := s.op.(gorgonia.UsePreallocDoer); ok && s.pre != nil {
		return pd.UsePreallocDo(s.pre, args...)
	}
	v, err := s.op.Do(args...)
	if err != nil {
		return nil, err
	}
	if t, ok := v.(tensor.Tensor); ok {
		s.fresh = aliases(t, args)
		if !s.fresh {
			s.pre = v
		}
	} else {
		s.fresh = true // scalars are values, not buffers
	}
	return v, nil
}

// aliases reports whether t's memory overlaps one of args'.
func aliases(t tensor.Tensor, args []gorgonia.Value) bool {
	lo, hi := t.Uintptr(), t.Uintptr()+t.MemSize()
	if lo == hi {
		return true
	}
	for _, a := range args {
		at, ok := a.(tensor.Tensor)
		if !ok {
			continue
		}
		if alo, ahi := at.Uintptr(), at.Uintptr()+at.MemSize(); alo < hi && lo < ahi {
			return true
		}
	}
	return false
}
