package kernels

// The portable micro-kernel. Go has no vector types, and its compiler
// schedules the multiplications of a loop body before the additions that
// carry running sums to the next iteration, so a block of many sums spills
// them to memory. microKernelGo therefore works through a tile in blocks
// of 2 rows × 4 columns: eight sums in registers, two values of A and four
// of B loaded per step, eight steps per loop iteration read through one
// bounds-checked window of each panel (the sums of the first seven steps
// are used inside the body, so they are scheduled as they come; only the
// last step's wait). On amd64 about three instructions per
// multiply-add remain (SSE's two-operand multiply needs a copy of one
// operand), against eight in a loop over a tile kept in memory; on
// architectures with three-operand arithmetic (arm64, riscv64) about two
// and a half.

// microKernelGo computes rows×cols (at most mr×nr) of the tile C = Ap·Bp
// (+ C if load) from k ≥ 1 packed steps, writing only those rows and columns.
// Each element is summed in step order from zero, the product and the sum
// each rounded (T(a·b): no fused multiply-add on any architecture, so the
// bits are the same everywhere), then added to C if load.
func microKernelGo[T Float](k int, ap, bp, c []T, ldc, rows, cols int, load bool) {
	ap, bp = ap[:k*mr], bp[:k*nr]
	for i := 0; i < rows; i += 2 {
		for j := 0; j < cols; j += 4 {
			if i+2 <= rows && j+4 <= cols {
				block2x4(k, ap[i:], bp[j:], c[i*ldc+j:], ldc, load)
				continue
			}
			// An edge block: computed into a 2×4 buffer, the part inside
			// the tile copied.
			var buf [2 * 4]T
			h, w := min(2, rows-i), min(4, cols-j)
			if load {
				for r := 0; r < h; r++ {
					copy(buf[r*4:r*4+w], c[(i+r)*ldc+j:])
				}
			}
			block2x4(k, ap[i:], bp[j:], buf[:], 4, load)
			for r := 0; r < h; r++ {
				copy(c[(i+r)*ldc+j:(i+r)*ldc+j+w], buf[r*4:])
			}
		}
	}
}

// block2x4 sets (or, if load, adds to) c[i·ldc+j] the sums
// Σ_p a[p·mr+i]·b[p·nr+j] for i < 2, j < 4 and p < k, in step order.
func block2x4[T Float](k int, a, b, c []T, ldc int, load bool) {
	var c00, c01, c02, c03, c10, c11, c12, c13 T
	p, o, q := 0, 0, 0 // a step and its offsets in a and b

	for ; p+8 <= k; p, o, q = p+8, o+8*mr, q+8*nr {
		w := a[o : o+7*mr+2]
		v := b[q : q+7*nr+4]
		c00 += T(w[0] * v[0])
		c01 += T(w[0] * v[1])
		c02 += T(w[0] * v[2])
		c03 += T(w[0] * v[3])
		c10 += T(w[1] * v[0])
		c11 += T(w[1] * v[1])
		c12 += T(w[1] * v[2])
		c13 += T(w[1] * v[3])
		c00 += T(w[mr] * v[nr])
		c01 += T(w[mr] * v[nr+1])
		c02 += T(w[mr] * v[nr+2])
		c03 += T(w[mr] * v[nr+3])
		c10 += T(w[mr+1] * v[nr])
		c11 += T(w[mr+1] * v[nr+1])
		c12 += T(w[mr+1] * v[nr+2])
		c13 += T(w[mr+1] * v[nr+3])
		c00 += T(w[2*mr] * v[2*nr])
		c01 += T(w[2*mr] * v[2*nr+1])
		c02 += T(w[2*mr] * v[2*nr+2])
		c03 += T(w[2*mr] * v[2*nr+3])
		c10 += T(w[2*mr+1] * v[2*nr])
		c11 += T(w[2*mr+1] * v[2*nr+1])
		c12 += T(w[2*mr+1] * v[2*nr+2])
		c13 += T(w[2*mr+1] * v[2*nr+3])
		c00 += T(w[3*mr] * v[3*nr])
		c01 += T(w[3*mr] * v[3*nr+1])
		c02 += T(w[3*mr] * v[3*nr+2])
		c03 += T(w[3*mr] * v[3*nr+3])
		c10 += T(w[3*mr+1] * v[3*nr])
		c11 += T(w[3*mr+1] * v[3*nr+1])
		c12 += T(w[3*mr+1] * v[3*nr+2])
		c13 += T(w[3*mr+1] * v[3*nr+3])
		c00 += T(w[4*mr] * v[4*nr])
		c01 += T(w[4*mr] * v[4*nr+1])
		c02 += T(w[4*mr] * v[4*nr+2])
		c03 += T(w[4*mr] * v[4*nr+3])
		c10 += T(w[4*mr+1] * v[4*nr])
		c11 += T(w[4*mr+1] * v[4*nr+1])
		c12 += T(w[4*mr+1] * v[4*nr+2])
		c13 += T(w[4*mr+1] * v[4*nr+3])
		c00 += T(w[5*mr] * v[5*nr])
		c01 += T(w[5*mr] * v[5*nr+1])
		c02 += T(w[5*mr] * v[5*nr+2])
		c03 += T(w[5*mr] * v[5*nr+3])
		c10 += T(w[5*mr+1] * v[5*nr])
		c11 += T(w[5*mr+1] * v[5*nr+1])
		c12 += T(w[5*mr+1] * v[5*nr+2])
		c13 += T(w[5*mr+1] * v[5*nr+3])
		c00 += T(w[6*mr] * v[6*nr])
		c01 += T(w[6*mr] * v[6*nr+1])
		c02 += T(w[6*mr] * v[6*nr+2])
		c03 += T(w[6*mr] * v[6*nr+3])
		c10 += T(w[6*mr+1] * v[6*nr])
		c11 += T(w[6*mr+1] * v[6*nr+1])
		c12 += T(w[6*mr+1] * v[6*nr+2])
		c13 += T(w[6*mr+1] * v[6*nr+3])
		c00 += T(w[7*mr] * v[7*nr])
		c01 += T(w[7*mr] * v[7*nr+1])
		c02 += T(w[7*mr] * v[7*nr+2])
		c03 += T(w[7*mr] * v[7*nr+3])
		c10 += T(w[7*mr+1] * v[7*nr])
		c11 += T(w[7*mr+1] * v[7*nr+1])
		c12 += T(w[7*mr+1] * v[7*nr+2])
		c13 += T(w[7*mr+1] * v[7*nr+3])
	}
	for ; p < k; p, o, q = p+1, o+mr, q+nr {
		w := a[o : o+2]
		v := b[q : q+4]
		c00 += T(w[0] * v[0])
		c01 += T(w[0] * v[1])
		c02 += T(w[0] * v[2])
		c03 += T(w[0] * v[3])
		c10 += T(w[1] * v[0])
		c11 += T(w[1] * v[1])
		c12 += T(w[1] * v[2])
		c13 += T(w[1] * v[3])
	}
	r0, r1 := c[:4], c[ldc:ldc+4]
	if load {
		c00, c01, c02, c03 = r0[0]+c00, r0[1]+c01, r0[2]+c02, r0[3]+c03
		c10, c11, c12, c13 = r1[0]+c10, r1[1]+c11, r1[2]+c12, r1[3]+c13
	}
	r0[0], r0[1], r0[2], r0[3] = c00, c01, c02, c03
	r1[0], r1[1], r1[2], r1[3] = c10, c11, c12, c13
}
