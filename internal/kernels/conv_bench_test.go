package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// The cnn's two convolutions at batch 64.
var benchConvs = []struct {
	name string
	g    ConvGeom
	oc   int
}{
	{"conv1", NewConvGeom(64, 1, 28, 28, 3, 3, 1, 1, 0, 0, 0, 0), 32},
	{"conv2", NewConvGeom(64, 32, 13, 13, 3, 3, 1, 1, 0, 0, 0, 0), 64},
}

// BenchmarkConv times the three passes of each of the cnn's convolutions
// (GFLOP/s counts the product's 2·OC·C·KH·KW·N·OH·OW operations).
func BenchmarkConv(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, c := range benchConvs {
		g := c.g
		ckk, np := g.C*g.KH*g.KW, g.N*g.OH*g.OW
		x, w := to32(randSlice(r, g.N*g.C*g.H*g.W)), to32(randSlice(r, c.oc*ckk))
		bias, y := to32(randSlice(r, c.oc)), make([]float32, c.oc*np)
		dy, dw, dx := to32(randSlice(r, c.oc*np)), make([]float32, c.oc*ckk), make([]float32, len(x))
		flops := float64(2 * c.oc * ckk * np)
		var s ConvScratch[float32]
		for _, pass := range []struct {
			name string
			run  func()
		}{
			{"forward", func() { ConvForward(g, c.oc, x, w, bias, true, y, &s) }},
			{"filter", func() { ConvFilterGrad(g, c.oc, x, dy, dw, &s) }},
			{"input", func() { ConvInputGrad(g, c.oc, w, dy, dx, &s) }},
		} {
			b.Run(fmt.Sprintf("%s/%s", c.name, pass.name), func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					pass.run()
				}
				b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}
