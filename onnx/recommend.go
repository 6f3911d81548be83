package onnx

import (
	"strconv"
)

// recommender converts MF (dot), NCF (mlp: the sizes of its dense layers)
// or Biases (neither): the input [batch, 2] of (user index, movie index)
// pairs, int64, is split into two id vectors that gather the embeddings'
// and biases' rows, and the rating [batch, 1] is
//
//	f(user, movie) + (user bias + movie bias) + mean
//
// summed in dlrun's order.
func (c *converter) recommender(name string, mean float64, dot bool, mlp []int) error {
	ids := c.asIDs()
	col := func(k int64, what string) string {
		i := c.b.int64s(name+"/"+what+"_column", nil, []int64{k})
		return c.b.op("Gather", name+"/"+what+"s", []string{ids, i}, attrInt("axis", 1))
	}
	users, movies := col(0, "user"), col(1, "movie")
	gather := func(param, idx string) (string, error) {
		w, err := c.weight(name + "." + param)
		if err != nil {
			return "", err
		}
		return c.b.op("Gather", name+"/"+param, []string{w, idx}), nil
	}
	var y string
	if dot || mlp != nil {
		p, err := gather("user_embedding", users)
		if err != nil {
			return err
		}
		q, err := gather("movie_embedding", movies)
		if err != nil {
			return err
		}
		if dot {
			pq := c.b.op("Mul", name+"/pq", []string{p, q})
			y = c.b.op("ReduceSum", name+"/dot", []string{pq, c.b.axes(1)}, attrInt("keepdims", 1))
		} else {
			y = c.b.op("Concat", name+"/pq", []string{p, q}, attrInt("axis", 1))
			for k := range mlp {
				layer := name + ".mlp" + strconv.Itoa(k+1)
				w, err := c.weight(layer + ".weight")
				if err != nil {
					return err
				}
				b, err := c.weight(layer + ".bias")
				if err != nil {
					return err
				}
				y = c.b.op("Gemm", layer, []string{y, w, b})
				if k < len(mlp)-1 {
					y = c.b.op("Relu", layer+"/relu", []string{y})
				}
			}
		}
	}
	bu, err := gather("user_bias", users)
	if err != nil {
		return err
	}
	bi, err := gather("movie_bias", movies)
	if err != nil {
		return err
	}
	out := c.b.op("Add", name+"/biases", []string{bu, bi})
	if y != "" {
		out = c.b.op("Add", name+"/sum", []string{y, out})
	}
	if mean != 0 {
		out = c.b.op("Add", name+"/mean", []string{out, c.b.scalar(name+".mean", float32(mean))})
	}
	c.x, c.ids = out, false
	return nil
}
