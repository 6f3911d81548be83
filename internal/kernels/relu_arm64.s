//go:build !purego

#include "textflag.h"
#include "neon_arm64.h"

// func keepPositiveVec(dst, x, v *float32, n int)
// dst[i] = v[i] where x[i] > 0 (ordered: NaN counts as not positive), else
// 0; four at a time, n a multiple of 8.
TEXT ·keepPositiveVec(SB), NOSPLIT, $0-32
	MOVD dst+0(FP), R0
	MOVD x+8(FP), R1
	MOVD v+16(FP), R2
	MOVD n+24(FP), R3
	LSR  $2, R3

loop:
	CBZ  R3, done
	VLD1.P 16(R1), [V0.S4]
	VLD1.P 16(R2), [V2.S4]
	FCMGTZ4S(1, 0)
	VAND V1.B16, V2.B16, V3.B16
	VST1.P [V3.S4], 16(R0)
	SUB  $1, R3
	B    loop

done:
	RET
