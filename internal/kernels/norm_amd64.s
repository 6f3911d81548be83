//go:build !purego

#include "textflag.h"

// AVX-512 batch-norm loops: float32 values widened to float64, the same
// operations in the same order as the Go loops (no fused multiply-adds),
// narrowed back; so the bits are the Go loops' bits. n is a multiple of 8.

// func bnForward512(y, x *float32, n int, scale, shift float64)
// y[i] = float32(float64(x[i])·scale + shift)
TEXT ·bnForward512(SB), NOSPLIT, $0-40
	MOVQ         y+0(FP), DI
	MOVQ         x+8(FP), SI
	MOVQ         n+16(FP), CX
	VBROADCASTSD scale+24(FP), Z1
	VBROADCASTSD shift+32(FP), Z2
	SHRQ         $3, CX
	TESTQ        CX, CX
	JE           fdone

floop:
	VCVTPS2PD (SI), Z0
	VMULPD    Z1, Z0, Z0
	VADDPD    Z2, Z0, Z0
	VCVTPD2PS Z0, Y0
	VMOVUPS   Y0, (DI)
	ADDQ      $32, SI
	ADDQ      $32, DI
	DECQ      CX
	JNE       floop

fdone:
	VZEROUPPER
	RET

// func bnInputGrad512(dx, x, dy *float32, n int, mean, invstd, k, md, mdx float64)
// xh = (float64(x[i]) - mean)·invstd
// dx[i] = float32(k·((float64(dy[i]) - md) - xh·mdx))
TEXT ·bnInputGrad512(SB), NOSPLIT, $0-72
	MOVQ         dx+0(FP), DI
	MOVQ         x+8(FP), SI
	MOVQ         dy+16(FP), DX
	MOVQ         n+24(FP), CX
	VBROADCASTSD mean+32(FP), Z3
	VBROADCASTSD invstd+40(FP), Z4
	VBROADCASTSD k+48(FP), Z5
	VBROADCASTSD md+56(FP), Z6
	VBROADCASTSD mdx+64(FP), Z7
	SHRQ         $3, CX
	TESTQ        CX, CX
	JE           gdone

gloop:
	VCVTPS2PD (SI), Z0
	VSUBPD    Z3, Z0, Z0 // x - mean
	VMULPD    Z4, Z0, Z0 // xh
	VMULPD    Z7, Z0, Z0 // xh·mdx
	VCVTPS2PD (DX), Z1
	VSUBPD    Z6, Z1, Z1 // dy - md
	VSUBPD    Z0, Z1, Z1 // (dy - md) - xh·mdx
	VMULPD    Z1, Z5, Z1 // k·(…)
	VCVTPD2PS Z1, Y1
	VMOVUPS   Y1, (DI)
	ADDQ      $32, SI
	ADDQ      $32, DX
	ADDQ      $32, DI
	DECQ      CX
	JNE       gloop

gdone:
	VZEROUPPER
	RET
