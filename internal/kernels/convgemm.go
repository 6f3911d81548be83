package kernels

import "runtime"

// The convolution as implicit matrix products. The im2col matrix (C·KH·KW
// rows, one column per output position) is never written out: its panels
// are gathered straight from the image through a table of offsets, a block
// at a time, for the forward pass and the filter gradient. The forward pass
// and the input gradient work on chunks of whole images, so that what one
// product writes (the output, or the im2col matrix's gradient that col2im
// scatters back) is finished while it is still in cache.

// ConvScratch is the working memory of ConvForward, ConvFilterGrad and
// ConvInputGrad, kept from call to call so that a training step allocates
// nothing. Its zero value is ready to use; one ConvScratch must not be used
// by two calls at once.
type ConvScratch[T Float] struct {
	w     []T // the filters packed as the A operand
	col   []T // each worker's product for one chunk of images
	table []int32
	runs  []int32  // runLengths of table
	geom  ConvGeom // the geometry table was made for
	wino  winoScratch[T]
}

// setTable makes s.table the PatchTable of g, and s.runs its run lengths.
func (s *ConvScratch[T]) setTable(g ConvGeom) {
	if s.table == nil || s.geom != g {
		s.table, s.geom = PatchTable(g), g
		s.runs = runLengths(s.table, g.OH*g.OW)
	}
}

// runLengths returns, for each entry of a patch table whose rows hold
// grid entries, how many entries from it on in its row read consecutive
// values of the plane (table[t+k] = table[t]+k), or 0 where it is padding:
// where those runs are long, packing copies them instead of gathering
// value by value.
func runLengths(table []int32, grid int) []int32 {
	runs := make([]int32, len(table))
	for row := 0; row+grid <= len(table); row += grid {
		next := int32(0) // the run length of the entry after t in its row
		for t := row + grid - 1; t >= row; t-- {
			switch {
			case table[t] < 0:
				next = 0
			case t+1 < row+grid && next > 0 && table[t+1] == table[t]+1:
				next++
			default:
				next = 1
			}
			runs[t] = next
		}
	}
	return runs
}

// patches is the im2col matrix of a batch of images as a panel source:
// row r = (ch, i, j) and column q = (image, pos) hold
// img[image, ch, pos's row·SH + i - PadT, pos's column·SW + j - PadL],
// or 0 in the padding. The window offset (i, j) and the output position
// decide where in a plane a value comes from, whatever the image and
// channel; table holds that offset (or -1 for padding) for every (i, j)
// and position, so packing is a gather. With trans, rows and columns swap
// roles: the source packs the matrix's transpose, as the filter gradient
// reads it. A nil table stands for a 1×1 window over the whole plane:
// rows are the planes themselves.
type patches[T Float] struct {
	img   []T
	chans int     // channels per image
	plane int     // values per channel plane
	grid  int     // output positions per image
	khw   int     // window positions
	table []int32 // [khw][grid]: offset within the plane, or -1
	runs  []int32 // runLengths of table
	trans bool
}

// PatchTable returns the offsets within an input plane that the patches
// of g read: entry (i·KW + j)·OH·OW + oh·OW + ow is
// (oh·SH + i - PadT)·W + ow·SW + j - PadL, or -1 where that lies in the
// padding.
func PatchTable(g ConvGeom) []int32 {
	grid := g.OH * g.OW
	t := make([]int32, g.KH*g.KW*grid)
	for i := 0; i < g.KH; i++ {
		for j := 0; j < g.KW; j++ {
			row := t[(i*g.KW+j)*grid : (i*g.KW+j+1)*grid]
			for oh := 0; oh < g.OH; oh++ {
				for ow := 0; ow < g.OW; ow++ {
					ih, iw := oh*g.SH+i-g.PadT, ow*g.SW+j-g.PadL
					v := int32(-1)
					if ih >= 0 && ih < g.H && iw >= 0 && iw < g.W {
						v = int32(ih*g.W + iw)
					}
					row[oh*g.OW+ow] = v
				}
			}
		}
	}
	return t
}

// line writes row r of the matrix for columns [q0, q0+len(out)), one
// image's run of positions at a time.
func (s *patches[T]) line(r, q0 int, out []T) {
	ch, ij := r/s.khw, r%s.khw
	n, pos := q0/s.grid, q0%s.grid
	for len(out) > 0 {
		seg := min(s.grid-pos, len(out))
		base := (n*s.chans + ch) * s.plane
		src := s.img[base : base+s.plane]
		if s.table == nil {
			copy(out[:seg], src[pos:pos+seg])
		} else {
			t := ij*s.grid + pos
			gatherRuns(out[:seg], src, s.table[t:t+seg], s.runs[t:t+seg])
		}
		out = out[seg:]
		n, pos = n+1, 0
	}
}

// gather sets dst[i] = src[idx[i]], or 0 where idx[i] < 0. Every idx[i]
// must be below len(src).
func gather[T Float](dst, src []T, idx []int32) {
	idx = idx[:len(dst)]
	if d, ok := any(dst).([]float32); ok && cpu.wide && len(d) > 0 {
		gather512(&d[0], &any(src).([]float32)[0], &idx[0], len(d))
		return
	}
	if d, ok := any(dst).([]float32); ok && cpu.x86 && len(d) >= 8 {
		done := len(d) &^ 7
		gather256(&d[0], &any(src).([]float32)[0], &idx[0], done)
		dst, idx = dst[done:], idx[done:]
	}
	for k, i := range idx {
		if i >= 0 {
			dst[k] = src[i]
		} else {
			dst[k] = 0
		}
	}
}

// minRun is the shortest run of consecutive values that gatherRuns copies
// rather than gathers.
const minRun = 8

// gatherRuns is gather with the run lengths of idx (see runLengths): runs
// of minRun values or more are copied, the values between them gathered.
func gatherRuns[T Float](dst, src []T, idx, runs []int32) {
	idx, runs = idx[:len(dst)], runs[:len(dst)]
	k := 0
	if d, ok := any(dst).([]float32); ok && cpu.x86 && len(d) >= 8 {
		k = gatherRuns256(&d[0], &any(src).([]float32)[0], &idx[0], &runs[0], len(d))
	}
	for k < len(dst) {
		n := min(int(runs[k]), len(dst)-k)
		if n >= minRun {
			i := int(idx[k])
			copy(dst[k:k+n], src[i:i+n])
			k += n
			continue
		}
		end := k + 1 // the gathered piece: up to the next long run
		for end < len(dst) && min(int(runs[end]), len(dst)-end) < minRun {
			end++
		}
		gather(dst[k:end], src, idx[k:end])
		k = end
	}
}

// pack packs rows [p0, p0+kb) and columns [j0, j0+count) of the matrix as
// B panels (or, with trans, of its transpose: rows are columns q).
func (s patches[T]) pack(buf *[]T, j0, count, p0, kb int) []T {
	panels := (count + nr - 1) / nr
	*buf = grow(*buf, panels*nr*kb+max(panels*nr, nr*kb))
	dst, tmp := (*buf)[:panels*nr*kb], (*buf)[panels*nr*kb:]
	if !s.trans {
		line := tmp[:panels*nr]
		clear(line[count:])
		for p := 0; p < kb; p++ {
			(&s).line(p0+p, j0, line[:count])
			toPanels(dst[p*nr:], nr*kb, line, panels)
		}
		return dst
	}
	var rows [nr][]T
	for jp := 0; jp < panels; jp++ {
		for l := range rows {
			rows[l] = zeroRow[T]()
			if jp*nr+l < count {
				rows[l] = tmp[l*kb : (l+1)*kb]
				(&s).line(j0+jp*nr+l, p0, rows[l])
			}
		}
		interleaveB(dst[jp*nr*kb:(jp+1)*nr*kb], &rows, kb)
	}
	return dst
}

// toPanels copies line[jp·nr : (jp+1)·nr] to dst[jp·stride:] for each
// of the panels.
func toPanels[T Float](dst []T, stride int, line []T, panels int) {
	_ = dst[(panels-1)*stride+nr-1]
	_ = line[panels*nr-1]
	if d, ok := any(dst).([]float32); ok && cpu.wide {
		panels512(&d[0], stride, &any(line).([]float32)[0], panels)
		return
	}
	if d, ok := any(dst).([]float32); ok && cpu.x86 {
		panels256(&d[0], stride, &any(line).([]float32)[0], panels)
		return
	}
	for jp := 0; jp < panels; jp++ {
		copy(dst[jp*stride:jp*stride+nr], line[jp*nr:jp*nr+nr])
	}
}

// channelsA is an output gradient in NCHW, read as the A operand
// [channels, N·P]: row c, column (n, pos) holds dy[n, c, pos].
type channelsA[T Float] struct {
	dy          []T
	chans, grid int
}

func (s channelsA[T]) pack(buf *[]T, i0, count, p0, kb int) []T {
	panels := (count + mr - 1) / mr
	*buf = grow(*buf, panels*mr*kb)
	dst := *buf
	for r := 0; r < panels; r++ {
		d := dst[r*mr*kb : (r+1)*mr*kb]
		for q, end := p0, p0+kb; q < end; {
			n, pos := q/s.grid, q%s.grid
			seg := min(s.grid-pos, end-q)
			var rows [mr][]T
			for i := range rows {
				rows[i] = zeroRow[T]()
				if c := r*mr + i; c < count {
					off := (n*s.chans+i0+c)*s.grid + pos
					rows[i] = s.dy[off : off+seg]
				}
			}
			interleaveA(d[(q-p0)*mr:], &rows, seg)
			q += seg
		}
	}
	return dst
}

// imagesPerChunk is how many whole images a chunk of a convolution's
// columns holds: enough to fill one block of nc columns, so that small
// output planes do not leave every product with a ragged edge, and at
// least one.
func imagesPerChunk(n, grid int) int { return max(1, min(n, nc/grid)) }

// ConvForward sets y (N×OC×OH×OW) to the convolution of x (N×C×H×W) with
// w (OC×C×KH×KW), plus bias[oc] if bias is not nil, then ReLU if relu is
// set. Chunks of whole images are shared among workers; each is one
// product of the packed filters with the chunk's patches, packed straight
// from x, followed by the bias and ReLU while the product is in cache.
// Each element is summed as Gemm sums W·im2col(x), so results do not
// depend on GOMAXPROCS or the chunking.
//
// On the pure-Go path, a float32 3×3 convolution of stride 1 with enough
// channels is computed by Winograd's F(4×4, 3×3) instead (see
// winograd.go): a quarter of the multiplications, results within float32
// rounding of the direct sum but not its bits.
func ConvForward[T Float](g ConvGeom, oc int, x, w, bias []T, relu bool, y []T, s *ConvScratch[T]) {
	if useWinograd[T](g, oc) {
		winoForward(g, oc, x, w, bias, relu, y, &s.wino)
		return
	}
	ckk, grid, chw := g.C*g.KH*g.KW, g.OH*g.OW, g.C*g.H*g.W
	pa := packWhole(s.w, denseA[T]{false, w, ckk}, oc, ckk, mr)
	s.w = pa.p
	s.setTable(g)
	per := imagesPerChunk(g.N, grid)
	if per > 1 {
		s.col = grow(s.col, runtime.GOMAXPROCS(0)*oc*per*grid)
	}
	parallelWorkers((g.N+per-1)/per, 1, func(worker, lo, hi int) {
		for chunk := lo; chunk < hi; chunk++ {
			n0, n1 := chunk*per, min((chunk+1)*per, g.N)
			cols := (n1 - n0) * grid
			src := patches[T]{img: x[n0*chw : n1*chw], chans: g.C, plane: g.H * g.W, grid: grid, khw: g.KH * g.KW, table: s.table, runs: s.runs}
			prod := y[n0*oc*grid : n1*oc*grid] // one image: its NCHW block is the product
			if per > 1 {
				prod = s.col[worker*oc*per*grid : worker*oc*per*grid+oc*cols]
			}
			gemmRange(0, oc, 0, cols, ckk, pa, src, false, prod, cols)
			if bias == nil && !relu && per == 1 {
				continue
			}
			for i := 0; i < n1-n0; i++ {
				for c := 0; c < oc; c++ {
					var b T
					if bias != nil {
						b = bias[c]
					}
					addBiasReLU(y[((n0+i)*oc+c)*grid:((n0+i)*oc+c+1)*grid], prod[c*cols+i*grid:c*cols+(i+1)*grid], b, relu)
				}
			}
		}
	})
}

// ConvFilterGrad sets dw (OC×C×KH×KW) to the gradient of the convolution's
// filters: dY·im2col(x)ᵀ, summed over the batch's positions in order, with
// dy the output gradient (N×OC×OH×OW). It takes the Winograd route
// where ConvForward does.
func ConvFilterGrad[T Float](g ConvGeom, oc int, x, dy, dw []T, s *ConvScratch[T]) {
	if useWinograd[T](g, oc) {
		winoFilterGrad(g, oc, x, dy, dw, &s.wino)
		return
	}
	ckk, k := g.C*g.KH*g.KW, g.N*g.OH*g.OW
	a := channelsA[T]{dy, oc, g.OH * g.OW}
	s.setTable(g)
	b := patches[T]{img: x, chans: g.C, plane: g.H * g.W, grid: g.OH * g.OW, khw: g.KH * g.KW, table: s.table, runs: s.runs, trans: true}
	parallelGemmRange(oc, ckk, k, a, b, false, dw, ckk)
}

// ConvInputGrad sets dx (N×C×H×W) to the gradient of the convolution's
// input, from the filters w and the output gradient dy (N×OC×OH×OW): chunk
// by chunk of whole images, the gradient of the chunk's im2col matrix,
// Wᵀ·dY, then col2im while it is still in cache. Each element is summed
// as one product over the batch followed by col2im would sum it, except
// where ConvForward takes the Winograd route, which this takes too.
func ConvInputGrad[T Float](g ConvGeom, oc int, w, dy, dx []T, s *ConvScratch[T]) {
	if useWinograd[T](g, oc) {
		winoInputGrad(g, oc, w, dy, dx, &s.wino)
		return
	}
	ckk, grid, chw := g.C*g.KH*g.KW, g.OH*g.OW, g.C*g.H*g.W
	pa := packWhole(s.w, denseA[T]{true, w, ckk}, ckk, oc, mr)
	s.w = pa.p
	per := imagesPerChunk(g.N, grid)
	s.col = grow(s.col, runtime.GOMAXPROCS(0)*ckk*per*grid)
	parallelWorkers((g.N+per-1)/per, 1, func(worker, lo, hi int) {
		for chunk := lo; chunk < hi; chunk++ {
			n0, n1 := chunk*per, min((chunk+1)*per, g.N)
			cols := (n1 - n0) * grid
			// dY of the chunk as [OC, cols]: the patches of a 1×1 window.
			src := patches[T]{img: dy[n0*oc*grid : n1*oc*grid], chans: oc, plane: grid, grid: grid, khw: 1}
			col := s.col[worker*ckk*per*grid : worker*ckk*per*grid+ckk*cols]
			gemmRange(0, ckk, 0, cols, oc, pa, src, false, col, cols)
			part := g
			part.N = n1 - n0
			col2im(part, col, dx[n0*chw:n1*chw], 0, part.N*g.C)
		}
	})
}

// parallelGemmRange computes the m×n product C = op(A)·op(B) of two panel
// sources, sharing rows (or, when m < n, columns) among workers as
// ParallelGemm does: the share that leaves less packing to repeat.
func parallelGemmRange[T Float, SA panelSource[T], SB panelSource[T]](m, n, k int, sa SA, sb SB, accumulate bool, c []T, ldc int) {
	if 2*m*n*k < 1<<20 {
		gemmRange(0, m, 0, n, k, sa, sb, accumulate, c, ldc)
		return
	}
	if m >= n {
		ParallelFor((m+mr-1)/mr, 1, func(lo, hi int) {
			gemmRange(lo*mr, min(hi*mr, m), 0, n, k, sa, sb, accumulate, c, ldc)
		})
		return
	}
	ParallelFor((n+nr-1)/nr, 1, func(lo, hi int) {
		gemmRange(0, m, lo*nr, min(hi*nr, n), k, sa, sb, accumulate, c, ldc)
	})
}

// ChannelSums sets s[c] = Σ over images n and positions p of dy[n, c, p]
// (dy is N×C×P), summing each channel in that order. Eight channels are
// summed side by side, each in its own accumulator, so that the additions
// of one channel need not wait for each other's results.
func ChannelSums[T Float](dy []T, n, c, p int, s []T) {
	const lanes = 8
	ParallelFor((c+lanes-1)/lanes, 1, func(lo, hi int) {
		for c0 := lo * lanes; c0 < min(hi*lanes, c); c0 += lanes {
			if c0+lanes > c {
				for ch := c0; ch < c; ch++ {
					var acc T
					for i := 0; i < n; i++ {
						for _, v := range dy[(i*c+ch)*p : (i*c+ch+1)*p] {
							acc += v
						}
					}
					s[ch] = acc
				}
				continue
			}
			var a0, a1, a2, a3, a4, a5, a6, a7 T
			for i := 0; i < n; i++ {
				base := (i*c + c0) * p
				d0, d1, d2, d3 := dy[base:base+p], dy[base+p:base+2*p], dy[base+2*p:base+3*p], dy[base+3*p:base+4*p]
				d4, d5, d6, d7 := dy[base+4*p:base+5*p], dy[base+5*p:base+6*p], dy[base+6*p:base+7*p], dy[base+7*p:base+8*p]
				for k := range d0 {
					a0 += d0[k]
					a1 += d1[k]
					a2 += d2[k]
					a3 += d3[k]
					a4 += d4[k]
					a5 += d5[k]
					a6 += d6[k]
					a7 += d7[k]
				}
			}
			s[c0], s[c0+1], s[c0+2], s[c0+3] = a0, a1, a2, a3
			s[c0+4], s[c0+5], s[c0+6], s[c0+7] = a4, a5, a6, a7
		}
	})
}

// addBiasReLU sets dst[k] = src[k] + b, then ReLU if relu (as
// keepPositive: NaN and -0 become 0). dst may be src.
func addBiasReLU[T Float](dst, src []T, b T, relu bool) {
	src = src[:len(dst)]
	if d, ok := any(dst).([]float32); ok && cpu.wide {
		if len(d) > 0 {
			biasReLU512(&d[0], &any(src).([]float32)[0], len(d), float32(b), relu)
		}
		return
	}
	if d, ok := any(dst).([]float32); ok && cpu.x86 {
		if len(d) > 0 {
			biasReLU256(&d[0], &any(src).([]float32)[0], len(d), float32(b), relu)
		}
		return
	}
	for k, v := range src {
		dst[k] = v + b
	}
	if relu {
		keepPositive(dst, dst, dst)
	}
}
