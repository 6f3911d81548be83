//go:build !purego

#include "textflag.h"

// EXPF512 computes expf of Z0 into Z0 (clobbers Z1-Z4, K1, K2), with the
// operations of EXPF (activation_amd64.s) and expf (activation.go) in the
// same order, sixteen lanes at a time: constants in Z5..Z12 and Z15..Z20.
//   Z5 log2e, Z6 0.5, Z7 ln2hi, Z8 ln2lo, Z9 one, Z10 hi, Z11 lo, Z12 +inf,
//   Z15..Z20 the polynomial's coefficients
#define EXPF512 \
	VMINPS Z10, Z0, Z1 \
	VMAXPS Z11, Z1, Z1 \
	VMULPS Z5, Z1, Z2 \
	VADDPS Z6, Z2, Z2 \
	VRNDSCALEPS $1, Z2, Z2 \
	VMULPS Z7, Z2, Z3 \
	VSUBPS Z3, Z1, Z1 \
	VMULPS Z8, Z2, Z3 \
	VADDPS Z3, Z1, Z1 \
	VMULPS Z1, Z15, Z3 \
	VADDPS Z16, Z3, Z3 \
	VMULPS Z1, Z3, Z3 \
	VADDPS Z17, Z3, Z3 \
	VMULPS Z1, Z3, Z3 \
	VADDPS Z18, Z3, Z3 \
	VMULPS Z1, Z3, Z3 \
	VADDPS Z19, Z3, Z3 \
	VMULPS Z1, Z3, Z3 \
	VADDPS Z20, Z3, Z3 \
	VMULPS Z1, Z1, Z4 \
	VMULPS Z3, Z4, Z4 \
	VADDPS Z1, Z4, Z4 \
	VADDPS Z9, Z4, Z4 \
	VCVTTPS2DQ Z2, Z2 \
	VPSLLD $23, Z2, Z2 \
	VPADDD Z2, Z4, Z4 \
	VCMPPS $0x1e, Z10, Z0, K1 \
	VMOVAPS Z12, K1, Z4 \
	VCMPPS $0x11, Z11, Z0, K2 \
	VPXORD Z3, Z3, Z3 \
	VMOVAPS Z3, K2, Z4 \
	VMOVAPS Z4, Z0

// func activate512(dst, x *float32, n, mode int, consts *float32)
// n is a multiple of 16; mode 0 exp, 1 sigmoid, 2 tanh, as activateVec.
TEXT ·activate512(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	MOVQ mode+24(FP), DX
	MOVQ consts+32(FP), R9
	VBROADCASTSS 0(R9), Z5
	VBROADCASTSS 4(R9), Z6
	VBROADCASTSS 8(R9), Z7
	VBROADCASTSS 12(R9), Z8
	VBROADCASTSS 16(R9), Z15
	VBROADCASTSS 20(R9), Z16
	VBROADCASTSS 24(R9), Z17
	VBROADCASTSS 28(R9), Z18
	VBROADCASTSS 32(R9), Z19
	VBROADCASTSS 36(R9), Z20
	VBROADCASTSS 40(R9), Z9
	VBROADCASTSS 44(R9), Z10
	VBROADCASTSS 48(R9), Z11
	MOVL $0x7f800000, AX
	MOVD AX, X12
	VPBROADCASTD X12, Z12
	MOVL $0x80000000, AX
	MOVD AX, X13
	VPBROADCASTD X13, Z13          // sign bit
	VBROADCASTSS 52(R9), Z14       // 2
	XORQ AX, AX

loop:
	CMPQ AX, CX
	JGE  done
	VMOVUPS (SI)(AX*4), Z0
	CMPQ DX, $1
	JEQ  sigmoid
	CMPQ DX, $2
	JEQ  tanh
	EXPF512
	JMP  store

sigmoid:                           // 1/(1+expf(-x))
	VPXORD Z13, Z0, Z0
	EXPF512
	VADDPS Z9, Z0, Z0
	VDIVPS Z0, Z9, Z0
	JMP  store

tanh:                              // 1 - 2/(expf(2x)+1)
	VMULPS Z14, Z0, Z0
	EXPF512
	VADDPS Z9, Z0, Z0
	VDIVPS Z0, Z14, Z0
	VSUBPS Z0, Z9, Z0

store:
	VMOVUPS Z0, (DI)(AX*4)
	ADDQ $16, AX
	JMP  loop

done:
	VZEROUPPER
	RET
