//go:build !purego

#include "textflag.h"

// EXPF computes expf of Y0 into Y0 (clobbers Y1-Y4), exactly as expf in
// activation.go: constants in Y5..Y15 and at (R9).
//   Y5 log2e, Y6 0.5, Y7 ln2hi, Y8 ln2lo, Y9 one, Y10 hi, Y11 lo, Y12 +inf
#define EXPF \
	VMINPS Y10, Y0, Y1 \
	VMAXPS Y11, Y1, Y1 \
	VMULPS Y5, Y1, Y2 \
	VADDPS Y6, Y2, Y2 \
	VROUNDPS $1, Y2, Y2 \
	VMULPS Y7, Y2, Y3 \
	VSUBPS Y3, Y1, Y1 \
	VMULPS Y8, Y2, Y3 \
	VADDPS Y3, Y1, Y1 \
	VBROADCASTSS 16(R9), Y3 \
	VBROADCASTSS 20(R9), Y4 \
	VMULPS Y1, Y3, Y3 \
	VADDPS Y4, Y3, Y3 \
	VBROADCASTSS 24(R9), Y4 \
	VMULPS Y1, Y3, Y3 \
	VADDPS Y4, Y3, Y3 \
	VBROADCASTSS 28(R9), Y4 \
	VMULPS Y1, Y3, Y3 \
	VADDPS Y4, Y3, Y3 \
	VBROADCASTSS 32(R9), Y4 \
	VMULPS Y1, Y3, Y3 \
	VADDPS Y4, Y3, Y3 \
	VBROADCASTSS 36(R9), Y4 \
	VMULPS Y1, Y3, Y3 \
	VADDPS Y4, Y3, Y3 \
	VMULPS Y1, Y1, Y4 \
	VMULPS Y3, Y4, Y4 \
	VADDPS Y1, Y4, Y4 \
	VADDPS Y9, Y4, Y4 \
	VCVTTPS2DQ Y2, Y2 \
	VPSLLD $23, Y2, Y2 \
	VPADDD Y2, Y4, Y4 \
	VCMPPS $0x1e, Y10, Y0, Y1 \
	VBLENDVPS Y1, Y12, Y4, Y4 \
	VCMPPS $0x11, Y11, Y0, Y1 \
	VXORPS Y3, Y3, Y3 \
	VBLENDVPS Y1, Y3, Y4, Y0

// func activateVec(dst, x *float32, n, mode int, consts *float32)
TEXT ·activateVec(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	MOVQ mode+24(FP), DX
	MOVQ consts+32(FP), R9
	VBROADCASTSS 0(R9), Y5
	VBROADCASTSS 4(R9), Y6
	VBROADCASTSS 8(R9), Y7
	VBROADCASTSS 12(R9), Y8
	VBROADCASTSS 40(R9), Y9
	VBROADCASTSS 44(R9), Y10
	VBROADCASTSS 48(R9), Y11
	MOVL $0x7f800000, AX
	MOVD AX, X12
	VBROADCASTSS X12, Y12
	MOVL $0x80000000, AX
	MOVD AX, X13
	VBROADCASTSS X13, Y13          // sign bit
	VBROADCASTSS 52(R9), Y14       // 2
	XORQ AX, AX

loop:
	CMPQ AX, CX
	JGE  done
	VMOVUPS (SI)(AX*4), Y0
	CMPQ DX, $1
	JEQ  sigmoid
	CMPQ DX, $2
	JEQ  tanh
	EXPF
	JMP  store

sigmoid:                           // 1/(1+expf(-x))
	VXORPS Y13, Y0, Y0
	EXPF
	VADDPS Y9, Y0, Y0
	VDIVPS Y0, Y9, Y0
	JMP  store

tanh:                              // 1 - 2/(expf(2x)+1)
	VMULPS Y14, Y0, Y0
	EXPF
	VADDPS Y9, Y0, Y0
	VDIVPS Y0, Y14, Y0
	VSUBPS Y0, Y9, Y0

store:
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ $8, AX
	JMP  loop

done:
	VZEROUPPER
	RET
