package graph

import (
	"strings"

	"github.com/pkg/errors"
	"gorgonia.org/gorgonia"
)

// checkNodes returns an error, naming op and the nodes, if one of nodes is
// nil, if two belong to different ExprGraphs, if none belongs to a graph
// (a constant such as Graph.Scalar joins the graph of the node beside it)
// or if two have different element types. Optional operands that are nil
// by design must be left out of nodes.
func checkNodes(op string, nodes ...*gorgonia.Node) error {
	var first, typed *gorgonia.Node
	for i, n := range nodes {
		if n == nil {
			return errors.Errorf("graph: %s: operand %d is nil (operands %s)", op, i+1, nodeNames(nodes))
		}
		if typed == nil {
			typed = n
		} else if n.Dtype() != typed.Dtype() {
			return errors.Errorf("graph: %s: %s is %v and %s is %v", op, typed.Name(), typed.Dtype(), n.Name(), n.Dtype())
		}
		if n.Graph() == nil {
			continue // a constant
		}
		if first == nil {
			first = n
		} else if n.Graph() != first.Graph() {
			return errors.Errorf("graph: %s: %s and %s belong to different graphs", op, first.Name(), n.Name())
		}
	}
	if first == nil && len(nodes) > 0 {
		return errors.Errorf("graph: %s: none of %s belongs to a graph", op, nodeNames(nodes))
	}
	return nil
}

// nodeNames lists the names of nodes, "nil" for a nil node.
func nodeNames(nodes []*gorgonia.Node) string {
	var b strings.Builder
	for i, n := range nodes {
		if i > 0 {
			b.WriteString(", ")
		}
		if n == nil {
			b.WriteString("nil")
		} else {
			b.WriteString(n.Name())
		}
	}
	return b.String()
}
