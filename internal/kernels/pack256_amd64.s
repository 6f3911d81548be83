//go:build !purego

#include "textflag.h"

// AVX2 loops that pack panels and finish convolutions: the AVX2 path's
// versions of gather512_amd64.s's loops, eight values at a time. Each
// moves values without arithmetic, or performs the Go loop's one addition
// (and ReLU) per value, so each gives the Go loop's bits.

// TRANSPOSE8 transposes the 8×8 block in Y0-Y7 (row i in Yi) into Y8-Y15
// (column p in Y(8+p)), with Y0-Y7 as scratch.
#define TRANSPOSE8 \
	VUNPCKLPS Y1, Y0, Y8 \
	VUNPCKHPS Y1, Y0, Y9 \
	VUNPCKLPS Y3, Y2, Y10 \
	VUNPCKHPS Y3, Y2, Y11 \
	VUNPCKLPS Y5, Y4, Y12 \
	VUNPCKHPS Y5, Y4, Y13 \
	VUNPCKLPS Y7, Y6, Y14 \
	VUNPCKHPS Y7, Y6, Y15 \
	VSHUFPS $0x44, Y10, Y8, Y0 \
	VSHUFPS $0xee, Y10, Y8, Y1 \
	VSHUFPS $0x44, Y11, Y9, Y2 \
	VSHUFPS $0xee, Y11, Y9, Y3 \
	VSHUFPS $0x44, Y14, Y12, Y4 \
	VSHUFPS $0xee, Y14, Y12, Y5 \
	VSHUFPS $0x44, Y15, Y13, Y6 \
	VSHUFPS $0xee, Y15, Y13, Y7 \
	VPERM2F128 $0x20, Y4, Y0, Y8 \
	VPERM2F128 $0x20, Y5, Y1, Y9 \
	VPERM2F128 $0x20, Y6, Y2, Y10 \
	VPERM2F128 $0x20, Y7, Y3, Y11 \
	VPERM2F128 $0x31, Y4, Y0, Y12 \
	VPERM2F128 $0x31, Y5, Y1, Y13 \
	VPERM2F128 $0x31, Y6, Y2, Y14 \
	VPERM2F128 $0x31, Y7, Y3, Y15

// LOADROW loads 8 values of row i (the pointer at off(R8)) at byte R10.
#define LOADROW(off, reg) \
	MOVQ    off(R8), AX \
	VMOVUPS (AX)(R10*1), reg

// func transpose16x256(dst *float32, rows *[16]*float32, n int)
// dst[p·16+l] = rows[l][p] for p < n (a multiple of 8): two 8×8 blocks
// transposed in registers per eight steps.
TEXT ·transpose16x256(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ rows+8(FP), R8
	MOVQ n+16(FP), CX
	XORQ R10, R10 // byte offset into each row
	SHRQ $3, CX
	TESTQ CX, CX
	JE    tdone

tloop:
	LOADROW(0, Y0)
	LOADROW(8, Y1)
	LOADROW(16, Y2)
	LOADROW(24, Y3)
	LOADROW(32, Y4)
	LOADROW(40, Y5)
	LOADROW(48, Y6)
	LOADROW(56, Y7)
	TRANSPOSE8
	VMOVUPS Y8, 0(DI)
	VMOVUPS Y9, 64(DI)
	VMOVUPS Y10, 128(DI)
	VMOVUPS Y11, 192(DI)
	VMOVUPS Y12, 256(DI)
	VMOVUPS Y13, 320(DI)
	VMOVUPS Y14, 384(DI)
	VMOVUPS Y15, 448(DI)
	LOADROW(64, Y0)
	LOADROW(72, Y1)
	LOADROW(80, Y2)
	LOADROW(88, Y3)
	LOADROW(96, Y4)
	LOADROW(104, Y5)
	LOADROW(112, Y6)
	LOADROW(120, Y7)
	TRANSPOSE8
	VMOVUPS Y8, 32(DI)
	VMOVUPS Y9, 96(DI)
	VMOVUPS Y10, 160(DI)
	VMOVUPS Y11, 224(DI)
	VMOVUPS Y12, 288(DI)
	VMOVUPS Y13, 352(DI)
	VMOVUPS Y14, 416(DI)
	VMOVUPS Y15, 480(DI)
	ADDQ $512, DI
	ADDQ $32, R10
	DECQ CX
	JNE  tloop

tdone:
	VZEROUPPER
	RET

// func interleave6x256(dst *float32, rows *[6]*float32, n int)
// dst[p·6+i] = rows[i][p] for p < n (a multiple of 8): an 8×8 transpose
// of the six rows and two of zeros per eight steps, whose columns are
// stored overlapping, each over the previous one's two zeros; the last
// as four values and two.
TEXT ·interleave6x256(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ rows+8(FP), R8
	MOVQ n+16(FP), CX
	XORQ R10, R10
	SHRQ $3, CX
	TESTQ CX, CX
	JE    idone

iloop:
	LOADROW(0, Y0)
	LOADROW(8, Y1)
	LOADROW(16, Y2)
	LOADROW(24, Y3)
	LOADROW(32, Y4)
	LOADROW(40, Y5)
	VXORPS Y6, Y6, Y6
	VXORPS Y7, Y7, Y7
	TRANSPOSE8
	VMOVUPS Y8, 0(DI)
	VMOVUPS Y9, 24(DI)
	VMOVUPS Y10, 48(DI)
	VMOVUPS Y11, 72(DI)
	VMOVUPS Y12, 96(DI)
	VMOVUPS Y13, 120(DI)
	VMOVUPS Y14, 144(DI)
	VMOVUPS X15, 168(DI)
	VEXTRACTF128 $1, Y15, X15
	MOVQ X15, 184(DI)
	ADDQ $192, DI
	ADDQ $32, R10
	DECQ CX
	JNE  iloop

idone:
	VZEROUPPER
	RET

// func panels256(dst *float32, stride int, src *float32, panels int)
// copies src[16j : 16j+16] to dst[j·stride :] for j < panels.
TEXT ·panels256(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ stride+8(FP), DX
	SHLQ $2, DX
	MOVQ src+16(FP), SI
	MOVQ panels+24(FP), CX
	TESTQ CX, CX
	JE    pdone

ploop:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	ADDQ    $64, SI
	ADDQ    DX, DI
	DECQ    CX
	JNE     ploop

pdone:
	VZEROUPPER
	RET

// func rowsToPanel256(dst, src *float32, lds, kb int)
// copies src[p·lds : p·lds+16] to dst[p·16 :] for p < kb.
TEXT ·rowsToPanel256(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ lds+16(FP), DX
	SHLQ $2, DX
	MOVQ kb+24(FP), CX
	TESTQ CX, CX
	JE    rdone

rloop:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	ADDQ    DX, SI
	ADDQ    $64, DI
	DECQ    CX
	JNE     rloop

rdone:
	VZEROUPPER
	RET

// func biasReLU256(dst, src *float32, n int, b float32, relu bool)
// dst[i] = src[i] + b, then max(·, 0) if relu (NaN and -0 become 0, as
// keepPositive makes them), for i < n.
TEXT ·biasReLU256(SB), NOSPLIT, $0-29
	MOVQ         dst+0(FP), DI
	MOVQ         src+8(FP), SI
	MOVQ         n+16(FP), CX
	VBROADCASTSS b+24(FP), Y3
	MOVBQZX      relu+28(FP), R9
	VXORPS       Y2, Y2, Y2

bloop:
	CMPQ CX, $8
	JL   btail
	VMOVUPS (SI), Y0
	VADDPS  Y3, Y0, Y0
	TESTQ   R9, R9
	JE      bstore
	VMAXPS  Y2, Y0, Y0

bstore:
	VMOVUPS Y0, (DI)
	ADDQ    $32, SI
	ADDQ    $32, DI
	SUBQ    $8, CX
	JMP     bloop

btail:
	TESTQ CX, CX
	JE    bdone
	VMOVSS (SI), X0
	VADDSS X3, X0, X0
	TESTQ  R9, R9
	JE     bstore1
	VMAXSS X2, X0, X0

bstore1:
	VMOVSS X0, (DI)
	ADDQ   $4, SI
	ADDQ   $4, DI
	DECQ   CX
	JMP    btail

bdone:
	VZEROUPPER
	RET

// func addRows256(dst *float32, ldd int, src *float32, lds, rows, width int)
// adds src[r·lds+c] to dst[r·ldd+c] for r < rows, c < width.
TEXT ·addRows256(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ ldd+8(FP), R11
	SHLQ $2, R11
	MOVQ src+16(FP), SI
	MOVQ lds+24(FP), R12
	SHLQ $2, R12
	MOVQ rows+32(FP), DX
	MOVQ width+40(FP), R9
	TESTQ DX, DX
	JE    adone

arow:
	XORQ AX, AX
	MOVQ R9, CX

a8:
	CMPQ CX, $8
	JL   a1
	VMOVUPS (DI)(AX*4), Y0
	VADDPS  (SI)(AX*4), Y0, Y0
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ    $8, AX
	SUBQ    $8, CX
	JMP     a8

a1:
	TESTQ CX, CX
	JE    anext
	VMOVSS (DI)(AX*4), X0
	VADDSS (SI)(AX*4), X0, X0
	VMOVSS X0, (DI)(AX*4)
	INCQ   AX
	DECQ   CX
	JMP    a1

anext:
	ADDQ R11, DI
	ADDQ R12, SI
	DECQ DX
	JNE  arow

adone:
	VZEROUPPER
	RET

// func gather256(dst, src *float32, idx *int32, n int)
// dst[i] = src[idx[i]] where idx[i] >= 0, else 0, for i < n (a multiple
// of 8), with AVX2 gathers.
TEXT ·gather256(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ idx+16(FP), R8
	MOVQ n+24(FP), CX
	VPCMPEQD Y15, Y15, Y15 // -1 in every lane
	SHRQ $3, CX
	TESTQ CX, CX
	JE    gdone

gloop:
	VMOVDQU    (R8), Y1
	VPCMPGTD   Y15, Y1, Y2 // idx > -1
	VXORPS     Y0, Y0, Y0
	VGATHERDPS Y2, (SI)(Y1*4), Y0
	VMOVUPS    Y0, (DI)
	ADDQ       $32, DI
	ADDQ       $32, R8
	DECQ       CX
	JNE        gloop

gdone:
	VZEROUPPER
	RET

// func gatherRuns256(dst, src *float32, idx, runs *int32, n int) int
// gatherRuns while eight values or more are left: at each k, a run of
// runs[k] >= 8 consecutive values (as many as fit below n) is copied eight
// at a time, its last eight overlapping the eight before; otherwise eight
// values are gathered. Returns the k it stopped at (n - k < 8).
TEXT ·gatherRuns256(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ idx+16(FP), R8
	MOVQ runs+24(FP), R9
	MOVQ n+32(FP), CX
	XORQ BX, BX // k
	VPCMPEQD Y15, Y15, Y15

rloop:
	MOVQ CX, DX
	SUBQ BX, DX // values left
	CMPQ DX, $8
	JL   rdone
	MOVLQSX (R9)(BX*4), AX
	CMPQ    AX, $8
	JL      rgather
	CMPQ    AX, DX
	CMOVQGT DX, AX                // the run's length below n
	MOVLQSX (R8)(BX*4), R10
	LEAQ    (SI)(R10*4), R11      // its first source value
	LEAQ    (DI)(BX*4), R12       // its first destination
	ADDQ    AX, BX
	LEAQ    -8(AX), R13           // where its last eight start
	XORQ    R14, R14

rcopy8:
	CMPQ    R14, R13
	JGE     rlast8
	VMOVUPS (R11)(R14*4), Y0
	VMOVUPS Y0, (R12)(R14*4)
	ADDQ    $8, R14
	JMP     rcopy8

rlast8:
	VMOVUPS (R11)(R13*4), Y0
	VMOVUPS Y0, (R12)(R13*4)
	JMP     rloop

rgather:
	VMOVDQU    (R8)(BX*4), Y1
	VPCMPGTD   Y15, Y1, Y2 // idx > -1
	VXORPS     Y0, Y0, Y0
	VGATHERDPS Y2, (SI)(Y1*4), Y0
	VMOVUPS    Y0, (DI)(BX*4)
	ADDQ       $8, BX
	JMP        rloop

rdone:
	MOVQ BX, ret+40(FP)
	VZEROUPPER
	RET
