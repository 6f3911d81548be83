package kernels

// Packing a panel means interleaving rows: panel element [p, i] comes from
// row i at step p. Writing one step's mr (or nr) values together, read from
// as many rows, keeps the writes sequential; a row at a time would write
// every mr-th (nr-th) element.

// interleaveA writes dst[p·mr+i] = rows[i][p] for p < n.
func interleaveA[T Float](dst []T, rows *[mr][]T, n int) {
	if d, ok := any(dst).([]float32); ok && cpu.x86 && n >= 8 {
		var ptrs [mr]*float32
		for i, r := range rows {
			ptrs[i] = &any(r[:n]).([]float32)[0]
		}
		done := n &^ 7
		if cpu.wide && n >= 16 {
			done = n &^ 15
			_ = d[done*mr-1]
			interleave6x512(&d[0], &ptrs, done, &interleave6Idx[0][0], &interleave6Masks[0][0])
		} else {
			_ = d[done*mr-1]
			interleave6x256(&d[0], &ptrs, done)
		}
		if done == n {
			return
		}
		var rest [mr][]T
		for i, r := range rows {
			rest[i] = r[done:n]
		}
		rows, dst, n = &rest, dst[done*mr:], n-done
	}
	r0, r1, r2, r3, r4, r5 := rows[0][:n], rows[1][:n], rows[2][:n], rows[3][:n], rows[4][:n], rows[5][:n]
	dst = dst[:n*mr]
	for p := range r0 {
		d := (*[mr]T)(dst[p*mr:])
		d[0], d[1], d[2], d[3], d[4], d[5] = r0[p], r1[p], r2[p], r3[p], r4[p], r5[p]
	}
}

// interleaveB writes dst[p·nr+l] = rows[l][p] for p < n.
func interleaveB[T Float](dst []T, rows *[nr][]T, n int) {
	if d, ok := any(dst).([]float32); ok && cpu.x86 && n >= 8 {
		var ptrs [nr]*float32
		for l, r := range rows {
			ptrs[l] = &any(r[:n]).([]float32)[0]
		}
		done := n &^ 7
		if cpu.wide && n >= nr {
			done = n &^ (nr - 1)
			_ = d[done*nr-1]
			transpose16x512(&d[0], &ptrs, done)
		} else {
			_ = d[done*nr-1]
			transpose16x256(&d[0], &ptrs, done)
		}
		if done == n {
			return
		}
		var rest [nr][]T
		for l, r := range rows {
			rest[l] = r[done:n]
		}
		rows, dst, n = &rest, dst[done*nr:], n-done
	}
	r0, r1, r2, r3 := rows[0][:n], rows[1][:n], rows[2][:n], rows[3][:n]
	r4, r5, r6, r7 := rows[4][:n], rows[5][:n], rows[6][:n], rows[7][:n]
	r8, r9, r10, r11 := rows[8][:n], rows[9][:n], rows[10][:n], rows[11][:n]
	r12, r13, r14, r15 := rows[12][:n], rows[13][:n], rows[14][:n], rows[15][:n]
	dst = dst[:n*nr]
	for p := range r0 {
		d := (*[nr]T)(dst[p*nr:])
		d[0], d[1], d[2], d[3] = r0[p], r1[p], r2[p], r3[p]
		d[4], d[5], d[6], d[7] = r4[p], r5[p], r6[p], r7[p]
		d[8], d[9], d[10], d[11] = r8[p], r9[p], r10[p], r11[p]
		d[12], d[13], d[14], d[15] = r12[p], r13[p], r14[p], r15[p]
	}
}

var (
	zeros32 [kc]float32
	zeros64 [kc]float64
)

// zeroRow returns kc zeros (never written): the rows past a matrix's edge
// in a panel.
func zeroRow[T Float]() []T {
	var z T
	if _, ok := any(z).(float32); ok {
		return any(zeros32[:]).([]T)
	}
	return any(zeros64[:]).([]T)
}

// interleave6Idx and interleave6Masks drive interleave6x512: output vector
// k, lane l of a block of 16 steps is element e = 16k+l of the interleaved
// block, from row e mod 6 at step e div 6. Its index selects that step in
// the row's pair (+16 for the pair's second row); mask [k][a] has the lanes
// whose row is in pair a (rows 2a and 2a+1).
var interleave6Idx, interleave6Masks = interleave6Tables()

func interleave6Tables() (idx [mr][16]int32, masks [mr][3]uint16) {
	for k := 0; k < mr; k++ {
		for l := 0; l < 16; l++ {
			e := 16*k + l
			row, step := e%mr, e/mr
			idx[k][l] = int32(step + 16*(row%2))
			masks[k][row/2] |= 1 << l
		}
	}
	return idx, masks
}
