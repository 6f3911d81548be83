//go:build !purego

#include "textflag.h"
#include "neon_arm64.h"

// EXPF computes expf of V0 into V0 (clobbers V1-V4) with the operations of
// EXPF in activation_amd64.s and expf in activation.go, in the same order
// and unfused, so with the same bits. Constants: V16 log2e, V17 0.5, V18
// ln2 high, V19 ln2 low, V20-V25 the polynomial, V26 one, V27 the upper
// limit, V28 the lower, V29 +inf. FMINNM and FMAXNM return the limit for a
// NaN, as x86's MINPS and MAXPS do.
#define EXPF \
	FMINNM4S(1, 0, 27) \
	FMAXNM4S(1, 1, 28) \
	FMUL4S(2, 1, 16)   \
	FADD4S(2, 2, 17)   \
	FRINTM4S(2, 2)     \
	FMUL4S(3, 2, 18)   \
	FSUB4S(1, 1, 3)    \
	FMUL4S(3, 2, 19)   \
	FADD4S(1, 1, 3)    \
	FMUL4S(3, 20, 1)   \
	FADD4S(3, 3, 21)   \
	FMUL4S(3, 3, 1)    \
	FADD4S(3, 3, 22)   \
	FMUL4S(3, 3, 1)    \
	FADD4S(3, 3, 23)   \
	FMUL4S(3, 3, 1)    \
	FADD4S(3, 3, 24)   \
	FMUL4S(3, 3, 1)    \
	FADD4S(3, 3, 25)   \
	FMUL4S(4, 1, 1)    \
	FMUL4S(4, 4, 3)    \
	FADD4S(4, 4, 1)    \
	FADD4S(4, 4, 26)   \
	FCVTZS4S(2, 2)     \
	VSHL $23, V2.S4, V2.S4 \
	VADD V2.S4, V4.S4, V4.S4 \
	FCMGT4S(1, 0, 27)  \
	VBIT V1.B16, V29.B16, V4.B16 \
	FCMGT4S(1, 28, 0)  \
	BIC16B(0, 4, 1)

// func activateVec(dst, x *float32, n, mode int, consts *float32)
// Four values at a time (n a multiple of 8): exp (mode 0), sigmoid (1) as
// 1/(1+expf(-x)), tanh (2) as 1 - 2/(expf(2x)+1).
TEXT ·activateVec(SB), NOSPLIT, $0-40
	MOVD dst+0(FP), R0
	MOVD x+8(FP), R1
	MOVD n+16(FP), R2
	MOVD mode+24(FP), R3
	MOVD consts+32(FP), R4
	VLD1R.P 4(R4), [V16.S4]
	VLD1R.P 4(R4), [V17.S4]
	VLD1R.P 4(R4), [V18.S4]
	VLD1R.P 4(R4), [V19.S4]
	VLD1R.P 4(R4), [V20.S4]
	VLD1R.P 4(R4), [V21.S4]
	VLD1R.P 4(R4), [V22.S4]
	VLD1R.P 4(R4), [V23.S4]
	VLD1R.P 4(R4), [V24.S4]
	VLD1R.P 4(R4), [V25.S4]
	VLD1R.P 4(R4), [V26.S4]
	VLD1R.P 4(R4), [V27.S4]
	VLD1R.P 4(R4), [V28.S4]
	VLD1R (R4), [V30.S4]
	MOVW $0x7f800000, R5
	VDUP R5, V29.S4
	LSR  $2, R2

loop:
	CBZ  R2, done
	VLD1.P 16(R1), [V0.S4]
	CMP  $1, R3
	BEQ  sigmoid
	CMP  $2, R3
	BEQ  tanh
	EXPF
	B    store

sigmoid:
	FNEG4S(0, 0)
	EXPF
	FADD4S(0, 0, 26)
	FDIV4S(0, 26, 0)
	B    store

tanh:
	FMUL4S(0, 0, 30)
	EXPF
	FADD4S(0, 0, 26)
	FDIV4S(0, 30, 0)
	FSUB4S(0, 26, 0)

store:
	VST1.P [V0.S4], 16(R0)
	SUB  $1, R2
	B    loop

done:
	RET
