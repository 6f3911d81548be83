//go:build !purego

#include "textflag.h"
#include "neon_arm64.h"

// SETUP loads Adam's constants: V16 b1, V17 b2, V18 lrc, V19 c2inv, V20
// eps, V21 1-b1, V22 1-b2, V23 momentFloor (1e-250, adam.go), V24 zero.
#define SETUP \
	FMOVD b1+40(FP), F16 \
	VDUP V16.D[0], V16.D2 \
	FMOVD b2+48(FP), F17 \
	VDUP V17.D[0], V17.D2 \
	FMOVD lrc+56(FP), F18 \
	VDUP V18.D[0], V18.D2 \
	FMOVD c2inv+64(FP), F19 \
	VDUP V19.D[0], V19.D2 \
	FMOVD eps+72(FP), F20 \
	VDUP V20.D[0], V20.D2 \
	MOVD $0x3ff0000000000000, R6 \
	VDUP R6, V25.D2 \
	FSUB2D(21, 25, 16) \
	FSUB2D(22, 25, 17) \
	MOVD $0x0c06e93f5da2824c, R6 \
	VDUP R6, V23.D2 \
	VEOR V24.B16, V24.B16, V24.B16

// STEP updates two elements: g in V0, m in V1, v in V2, w in V7, with
// adam_amd64.s's operations in its order (no fused multiply-adds); m and
// v below the floor become zero (a NaN is kept). Clobbers V3-V6.
#define STEP \
	FMUL2D(1, 1, 16) \
	FMUL2D(3, 0, 21) \
	FADD2D(1, 1, 3)  \
	FMUL2D(4, 0, 0)  \
	FMUL2D(2, 2, 17) \
	FMUL2D(4, 4, 22) \
	FADD2D(2, 2, 4)  \
	FABS2D(3, 1)     \
	FCMGT2D(3, 23, 3) \
	VBIT V3.B16, V24.B16, V1.B16 \
	FCMGT2D(4, 23, 2) \
	VBIT V4.B16, V24.B16, V2.B16 \
	FSQRT2D(5, 2)    \
	FMUL2D(5, 5, 19) \
	FADD2D(5, 5, 20) \
	FMUL2D(6, 1, 18) \
	FDIV2D(6, 6, 5)  \
	FSUB2D(7, 7, 6)

// func adamVec(w, gr, m, v *float64, n int, b1, b2, lrc, c2inv, eps float64)
// Two elements at a time (n a multiple of 4).
TEXT ·adamVec(SB), NOSPLIT, $0-80
	MOVD w+0(FP), R0
	MOVD gr+8(FP), R1
	MOVD m+16(FP), R2
	MOVD v+24(FP), R3
	MOVD n+32(FP), R4
	SETUP
	LSR  $1, R4

loop:
	CBZ  R4, done
	VLD1.P 16(R1), [V0.D2]
	VLD1 (R2), [V1.D2]
	VLD1 (R3), [V2.D2]
	VLD1 (R0), [V7.D2]
	STEP
	VST1.P [V1.D2], 16(R2)
	VST1.P [V2.D2], 16(R3)
	VST1.P [V7.D2], 16(R0)
	SUB  $1, R4
	B    loop

done:
	RET

// func adam32Vec(w, gr *float32, m, v *float64, n int, b1, b2, lrc, c2inv, eps float64)
// adamVec's loop with w and g read as float32, widened to float64, and w
// narrowed back (round to nearest, as Go's conversion).
TEXT ·adam32Vec(SB), NOSPLIT, $0-80
	MOVD w+0(FP), R0
	MOVD gr+8(FP), R1
	MOVD m+16(FP), R2
	MOVD v+24(FP), R3
	MOVD n+32(FP), R4
	SETUP
	LSR  $1, R4

loop32:
	CBZ  R4, done32
	VLD1.P 8(R1), [V0.S2]
	FCVTL2D(0, 0)
	VLD1 (R2), [V1.D2]
	VLD1 (R3), [V2.D2]
	VLD1 (R0), [V7.S2]
	FCVTL2D(7, 7)
	STEP
	FCVTN2S(7, 7)
	VST1.P [V1.D2], 16(R2)
	VST1.P [V2.D2], 16(R3)
	VST1.P [V7.S2], 8(R0)
	SUB  $1, R4
	B    loop32

done32:
	RET
