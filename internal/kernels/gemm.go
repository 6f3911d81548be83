package kernels

import (
	"runtime"
	"sync"
)

// Blocking of the matrix multiply (BLIS-style): C is computed in MR×NR
// tiles by a micro-kernel over packed panels of A (MR rows) and B (NR
// columns), with the shared dimension cut into blocks of KC. Each element
// of C is summed in one fixed order (k ascending inside a block, blocks in
// order), whichever rows or columns a worker is given, so results never
// depend on how the work is split or on GOMAXPROCS.
const (
	mr = 6
	nr = 16
	kc = 256
	mc = 96
	nc = 1024
)

// Gemm computes C = op(A)·op(B) (+ C if accumulate), for row-major
// matrices: op(A) is m×k (A is k×m if transA), op(B) is k×n (B is n×k if
// transB), C is m×n; lda, ldb and ldc are the row strides.
func Gemm[T Float](transA, transB bool, m, n, k int, a []T, lda int, b []T, ldb int, accumulate bool, c []T, ldc int) {
	if gemv(transA, transB, m, n, k, a, lda, b, ldb, accumulate, c, ldc) {
		return
	}
	if gemmFewRows(transA, transB, m, n, k, a, lda, b, ldb, accumulate, c, ldc) {
		return
	}
	gemmRange(0, m, 0, n, k, denseA[T]{transA, a, lda}, denseB[T]{transB, b, ldb}, accumulate, c, ldc)
}

// gemvRows is the most rows of op(A) that gemv takes: one or two rows
// read B fewer times from memory than packing it into panels would.
const gemvRows = 2

// gemv computes a product of at most gemvRows rows with a row-major B
// (not transposed) row by row, streaming B without packing it, and
// reports whether it did: on the AVX-512 path, for float32. Each element
// is summed as the micro-kernels sum it (kc steps at a time from zero,
// one fused multiply-add per step, each block added to C), so the bits
// are Gemm's.
func gemv[T Float](transA, transB bool, m, n, k int, a []T, lda int, b []T, ldb int, accumulate bool, c []T, ldc int) bool {
	a32, ok := any(a).([]float32)
	if !ok || m > gemvRows || transB || !cpu.wide || n == 0 || k == 0 || m == 0 {
		return false
	}
	b32, c32 := any(b).([]float32), any(c).([]float32)
	_ = b32[(k-1)*ldb+n-1]
	var row [kc]float32
	for i := 0; i < m; i++ {
		_ = c32[i*ldc+n-1]
		for pc := 0; pc < k; pc += kc {
			kb := min(kc, k-pc)
			var ap []float32
			if transA { // op(A)[i, p] = A[p, i]
				for p := 0; p < kb; p++ {
					row[p] = a32[(pc+p)*lda+i]
				}
				ap = row[:kb]
			} else {
				ap = a32[i*lda+pc : i*lda+pc+kb]
			}
			gemv512(kb, &ap[0], &b32[pc*ldb], ldb, &c32[i*ldc], n, accumulate || pc > 0)
		}
	}
	return true
}

// fewRows is the most rows of op(A) for which gemmFewRows reads B in place:
// with so few rows each B value serves too few products to repay copying
// it into a panel.
const fewRows = 64

// gemmFewRows computes a product of at most fewRows rows with a row-major
// B (not transposed) on the AVX-512 path for float32, reading B in place
// (kern12x32, kern6x32 stepping by B's rows) rather than packing it, and reports whether it
// did. A is packed as Gemm packs it; B columns beyond the last whole 32
// take the packed path. Each element is computed as Gemm computes it, kc
// steps at a time in the same order, so the bits are Gemm's.
func gemmFewRows[T Float](transA, transB bool, m, n, k int, a []T, lda int, b []T, ldb int, accumulate bool, c []T, ldc int) bool {
	a32, ok := any(a).([]float32)
	if !ok || m > fewRows || n < 2*nr || transB || !cpu.wide || k == 0 || m == 0 {
		return false
	}
	b32, c32 := any(b).([]float32), any(c).([]float32)
	wide := n &^ (2*nr - 1) // columns read in place
	_ = b32[(k-1)*ldb+n-1]
	_ = c32[(m-1)*ldc+n-1]
	ws := getWorkspace[float32]()
	defer putWorkspace(ws)
	var tile [mr * 2 * nr]float32
	for pc := 0; pc < k; pc += kc {
		kb := min(kc, k-pc)
		load := accumulate || pc > 0
		ws.a = packA(ws.a, transA, a32, lda, 0, m, pc, kb)
		for jr := 0; jr < wide; jr += 2 * nr {
			bp := &b32[pc*ldb+jr]
			ir := 0
			for ; ir+2*mr <= m; ir += 2 * mr {
				kern12x32(kb, &ws.a[ir*kb], bp, 4*ldb, 64, &c32[ir*ldc+jr], ldc, load)
			}
			if ir+mr <= m {
				kern6x32(kb, &ws.a[ir*kb], bp, 4*ldb, 64, &c32[ir*ldc+jr], ldc, load)
				ir += mr
			}
			if ir < m { // the last rows: a full tile computed aside
				rows := m - ir
				if load {
					for i := 0; i < rows; i++ {
						copy(tile[i*2*nr:(i+1)*2*nr], c32[(ir+i)*ldc+jr:(ir+i)*ldc+jr+2*nr])
					}
				}
				kern6x32(kb, &ws.a[ir*kb], bp, 4*ldb, 64, &tile[0], 2*nr, load)
				for i := 0; i < rows; i++ {
					copy(c32[(ir+i)*ldc+jr:(ir+i)*ldc+jr+2*nr], tile[i*2*nr:(i+1)*2*nr])
				}
			}
		}
	}
	if wide < n {
		gemmRange(0, m, 0, n-wide, k, denseA[float32]{transA, a32, lda}, denseB[float32]{false, b32[wide:], ldb}, accumulate, c32[wide:], ldc)
	}
	return true
}

// A panelSource supplies the packed panels of one operand of a matrix
// product: pack returns rows or columns [i0, i0+count) and steps
// [p0, p0+kb) of the shared dimension as panels of mr (for A) or nr (for
// B), writing them into *buf (grown as needed) unless the source keeps
// them packed already. Sources let a convolution pack its patches straight
// from the image (implicit im2col) or reuse filters packed once.
type panelSource[T Float] interface {
	pack(buf *[]T, i0, count, p0, kb int) []T
}

// denseA is op(A) of a row-major matrix.
type denseA[T Float] struct {
	trans bool
	a     []T
	lda   int
}

func (s denseA[T]) pack(buf *[]T, i0, count, p0, kb int) []T {
	*buf = packA(*buf, s.trans, s.a, s.lda, i0, count, p0, kb)
	return *buf
}

// denseB is op(B) of a row-major matrix.
type denseB[T Float] struct {
	trans bool
	b     []T
	ldb   int
}

func (s denseB[T]) pack(buf *[]T, j0, count, p0, kb int) []T {
	*buf = packB(*buf, s.trans, s.b, s.ldb, p0, kb, j0, count)
	return *buf
}

// packed is an operand packed whole in advance by packWhole: the panels
// of all its rows (an A operand, panels of mr) or columns (B, panels of
// nr), block by block of kc steps. For filters that every image's product
// shares, or a recurrent layer's weights that every step's does.
type packed[T Float] struct {
	p     []T
	pad   int // rows or columns rounded up to whole panels
	width int // mr or nr
}

func (s packed[T]) pack(_ *[]T, i0, count, p0, kb int) []T {
	off := p0*s.pad + i0*kb
	return s.p[off : off+(count+s.width-1)/s.width*s.width*kb]
}

// packWhole packs all count rows (width mr) or columns (width nr) and k
// steps of src into buf, as packed reads them.
func packWhole[T Float, S panelSource[T]](buf []T, src S, count, k, width int) packed[T] {
	pad := (count + width - 1) / width * width
	buf = grow(buf, pad*k)
	for pc := 0; pc < k; pc += kc {
		kb := min(kc, k-pc)
		blk := buf[pc*pad : pc*pad+pad*kb]
		got := src.pack(&blk, 0, count, pc, kb)
		if &got[0] != &blk[0] {
			copy(blk, got)
		}
	}
	return packed[T]{buf, pad, width}
}

// gemmRange computes rows [i0, i1) and columns [j0, j1) of C = op(A)·op(B)
// (+ C if accumulate), with op(A) and op(B) given as panel sources and c
// indexed from C's first element. i0 must be a multiple of mr. Each element
// of C is summed as Gemm sums it, whatever the range.
func gemmRange[T Float, SA panelSource[T], SB panelSource[T]](i0, i1, j0, j1, k int, sa SA, sb SB, accumulate bool, c []T, ldc int) {
	if i1 <= i0 || j1 <= j0 {
		return
	}
	if k == 0 {
		if !accumulate {
			for i := i0; i < i1; i++ {
				clear(c[i*ldc+j0 : i*ldc+j1])
			}
		}
		return
	}
	ws := getWorkspace[T]()
	defer putWorkspace(ws)
	wide := false
	if _, ok := any(c).([]float32); ok && cpu.wide {
		wide = true
	}
	for jc := j0; jc < j1; jc += nc {
		nb := min(nc, j1-jc)
		for pc := 0; pc < k; pc += kc {
			kb := min(kc, k-pc)
			bpk := sb.pack(&ws.b, jc, nb, pc, kb)
			load := accumulate || pc > 0
			for ic := i0; ic < i1; ic += mc {
				mb := min(mc, i1-ic)
				apk := sa.pack(&ws.a, ic, mb, pc, kb)
				for jr := 0; jr < nb; {
					if wide && jr+2*nr <= nb {
						gemmWide32(any(ws).(*workspace[float32]), kb, mb, any(apk).([]float32), any(bpk[jr*kb:]).([]float32), any(c).([]float32), ic*ldc+jc+jr, ldc, load)
						jr += 2 * nr
						continue
					}
					bp := bpk[jr*kb : jr*kb+nr*kb]
					for ir := 0; ir < mb; ir += mr {
						ap := apk[ir*kb : ir*kb+mr*kb]
						ci := (ic+ir)*ldc + jc + jr
						gemmTile(ws, kb, ap, bp, c, ci, ldc, min(mr, mb-ir), min(nr, nb-jr), load)
					}
					jr += nr
				}
			}
		}
	}
}

// gemmTile computes the rows×cols tile of C at c[ci:] (at most mr×nr)
// from the packed panels ap and bp with the micro-kernel: kern6x16 on the
// vector paths for float32, microKernelGo otherwise.
func gemmTile[T Float](ws *workspace[T], kb int, ap, bp, c []T, ci, ldc, rows, cols int, load bool) {
	f, ok := any(ap).([]float32)
	if !ok || !cpu.vector {
		microKernelGo(kb, ap, bp, c[ci:], ldc, rows, cols, load)
		return
	}
	b32 := any(bp).([]float32)
	if rows == mr && cols == nr {
		c32 := any(c).([]float32)[ci:]
		_ = c32[(mr-1)*ldc+nr-1]
		kern6x16(kb, &f[0], &b32[0], &c32[0], ldc, load)
		return
	}
	// Edge tile: compute into a full tile, copy the valid part.
	tile := any(ws.tile[:]).([]float32)
	c32 := any(c).([]float32)
	if load {
		for i := 0; i < rows; i++ {
			copy(tile[i*nr:i*nr+cols], c32[ci+i*ldc:ci+i*ldc+cols])
		}
	}
	kern6x16(kb, &f[0], &b32[0], &tile[0], nr, load)
	for i := 0; i < rows; i++ {
		copy(c32[ci+i*ldc:ci+i*ldc+cols], tile[i*nr:i*nr+cols])
	}
}

// gemmWide32 computes, on the AVX-512 path, the mb×2nr block of C at
// c[ci:] from the packed A block apk and the two packed B panels at the
// start of bpk: 12×32 tiles while two full A panels remain, then one 6×32
// tile, then the last partial A panel as two edge tiles. Each element is
// computed as the 6×16 kernel computes it, so the bits do not change.
func gemmWide32(ws *workspace[float32], kb, mb int, apk, bpk []float32, c []float32, ci, ldc int, load bool) {
	bp := bpk[:2*nr*kb]
	ir := 0
	for ; ir+2*mr <= mb; ir += 2 * mr {
		_ = apk[ir*kb+2*mr*kb-1]
		_ = c[ci+ir*ldc+(2*mr-1)*ldc+2*nr-1]
		kern12x32(kb, &apk[ir*kb], &bp[0], 64, 64*kb, &c[ci+ir*ldc], ldc, load)
	}
	if ir+mr <= mb {
		_ = apk[ir*kb+mr*kb-1]
		_ = c[ci+ir*ldc+(mr-1)*ldc+2*nr-1]
		kern6x32(kb, &apk[ir*kb], &bp[0], 64, 64*kb, &c[ci+ir*ldc], ldc, load)
		ir += mr
	}
	if ir < mb {
		ap := apk[ir*kb : ir*kb+mr*kb]
		rows := mb - ir
		gemmTile(ws, kb, ap, bp[:nr*kb], c, ci+ir*ldc, ldc, rows, nr, load)
		gemmTile(ws, kb, ap, bp[nr*kb:], c, ci+ir*ldc+nr, ldc, rows, nr, load)
	}
}

type workspace[T Float] struct {
	a, b []T
	tile [mr * nr]T
}

var (
	pool32 = sync.Pool{New: func() any { return new(workspace[float32]) }}
	pool64 = sync.Pool{New: func() any { return new(workspace[float64]) }}
)

func getWorkspace[T Float]() *workspace[T] {
	var z T
	if _, ok := any(z).(float32); ok {
		return any(pool32.Get()).(*workspace[T])
	}
	return any(pool64.Get()).(*workspace[T])
}

func putWorkspace[T Float](ws *workspace[T]) {
	switch w := any(ws).(type) {
	case *workspace[float32]:
		pool32.Put(w)
	case *workspace[float64]:
		pool64.Put(w)
	}
}

func grow[T Float](buf []T, n int) []T {
	if cap(buf) < n {
		return make([]T, n)
	}
	return buf[:n]
}

// packA packs rows [ic, ic+mb) and columns [pc, pc+kb) of op(A) into
// panels of mr rows: panel r holds, for each p, the mr values A[r·mr+i, p].
func packA[T Float](buf []T, trans bool, a []T, lda, ic, mb, pc, kb int) []T {
	panels := (mb + mr - 1) / mr
	buf = grow(buf, panels*mr*kb)
	for r := 0; r < panels; r++ {
		dst := buf[r*mr*kb : (r+1)*mr*kb]
		rows := min(mr, mb-r*mr)
		if trans { // op(A)[row, p] = A[p, row]: rows are contiguous in A
			row0 := ic + r*mr
			if rows == mr { // fixed-size copies, not a memmove call per step
				for p := 0; p < kb; p++ {
					d, o := dst[p*mr:p*mr+mr:p*mr+mr], (pc+p)*lda+row0
					s := a[o : o+mr : o+mr]
					d[0], d[1], d[2], d[3], d[4], d[5] = s[0], s[1], s[2], s[3], s[4], s[5]
				}
				continue
			}
			for p := 0; p < kb; p++ {
				d := dst[p*mr : p*mr+mr]
				copy(d, a[(pc+p)*lda+row0:(pc+p)*lda+row0+rows])
				clear(d[rows:])
			}
			continue
		}
		var src [mr][]T
		for i := range src {
			src[i] = zeroRow[T]()
			if i < rows {
				row := ic + r*mr + i
				src[i] = a[row*lda+pc : row*lda+pc+kb]
			}
		}
		interleaveA(dst, &src, kb)
	}
	return buf
}

// packB packs rows [pc, pc+kb) and columns [jc, jc+nb) of op(B) into
// panels of nr columns: panel j holds, for each p, the nr values B[p, j·nr+l].
func packB[T Float](buf []T, trans bool, b []T, ldb, pc, kb, jc, nb int) []T {
	panels := (nb + nr - 1) / nr
	buf = grow(buf, panels*nr*kb)
	for j := 0; j < panels; j++ {
		dst := buf[j*nr*kb : (j+1)*nr*kb]
		cols := min(nr, nb-j*nr)
		col0 := jc + j*nr
		if trans { // op(B)[p, col] = B[col, p]
			var src [nr][]T
			for l := range src {
				src[l] = zeroRow[T]()
				if l < cols {
					src[l] = b[(col0+l)*ldb+pc : (col0+l)*ldb+pc+kb]
				}
			}
			interleaveB(dst, &src, kb)
			continue
		}
		if d, ok := any(dst).([]float32); ok && cpu.wide && cols == nr {
			_ = b[(pc+kb-1)*ldb+col0+nr-1]
			rowsToPanel512(&d[0], &any(b).([]float32)[pc*ldb+col0], ldb, kb)
			continue
		}
		if d, ok := any(dst).([]float32); ok && cpu.x86 && cols == nr {
			_ = b[(pc+kb-1)*ldb+col0+nr-1]
			rowsToPanel256(&d[0], &any(b).([]float32)[pc*ldb+col0], ldb, kb)
			continue
		}
		for p := 0; p < kb; p++ {
			row := b[(pc+p)*ldb+col0 : (pc+p)*ldb+col0+cols]
			d := dst[p*nr : p*nr+nr]
			copy(d, row)
			clear(d[cols:])
		}
	}
	return buf
}

// ParallelFor runs fn over [0, n) split into contiguous ranges, one per
// worker (at most GOMAXPROCS, at most n/grain). fn must write disjoint
// outputs for disjoint ranges; then the result does not depend on the split.
func ParallelFor(n, grain int, fn func(lo, hi int)) {
	parallelWorkers(n, grain, func(_, lo, hi int) { fn(lo, hi) })
}

// parallelWorkers is ParallelFor that also tells fn its worker's number,
// from 0 to GOMAXPROCS-1, so that each worker can use scratch of its own.
func parallelWorkers(n, grain int, fn func(worker, lo, hi int)) {
	workers := runtime.GOMAXPROCS(0)
	if grain < 1 {
		grain = 1
	}
	workers = min(workers, (n+grain-1)/grain)
	if workers <= 1 {
		fn(0, 0, n)
		return
	}
	var buf [16][2]int
	ranges := buf[:0]
	for w := 0; w < workers; w++ {
		ranges = append(ranges, [2]int{n * w / workers, n * (w + 1) / workers})
	}
	if standing.run(fn, ranges) {
		return
	}
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		lo, hi := n*w/workers, n*(w+1)/workers
		if lo == hi {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(w, lo, hi)
		}()
	}
	wg.Wait()
}

// ParallelGemm is Gemm with the rows of C (or, when m is small, its
// columns) shared among workers. Every element is computed exactly as Gemm
// computes it, so the result is the same for any number of workers.
func ParallelGemm[T Float](transA, transB bool, m, n, k int, a []T, lda int, b []T, ldb int, accumulate bool, c []T, ldc int) {
	if 2*m*n*k < 1<<20 {
		Gemm(transA, transB, m, n, k, a, lda, b, ldb, accumulate, c, ldc)
		return
	}
	if m >= n {
		ParallelFor((m+mr-1)/mr, 1, func(lo, hi int) {
			r0, r1 := lo*mr, min(hi*mr, m)
			aOff := r0 * lda
			if transA {
				aOff = r0
			}
			Gemm(transA, transB, r1-r0, n, k, a[aOff:], lda, b, ldb, accumulate, c[r0*ldc:], ldc)
		})
		return
	}
	ParallelFor((n+nr-1)/nr, 1, func(lo, hi int) {
		c0, c1 := lo*nr, min(hi*nr, n)
		bOff := c0
		if transB {
			bOff = c0 * ldb
		}
		Gemm(transA, transB, m, c1-c0, k, a, lda, b[bOff:], ldb, accumulate, c[c0:], ldc)
	})
}
