//go:build !purego

#include "textflag.h"

// AVX-512 loops that pack a convolution's patches: a gather through an
// index table, and the copy of a line into panels.

// func gather512(dst, src *float32, idx *int32, n int)
// dst[i] = src[idx[i]] where idx[i] >= 0, else 0, for i < n.
TEXT ·gather512(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ idx+16(FP), R8
	MOVQ n+24(FP), CX
	VPXORD Z2, Z2, Z2

loop16:
	CMPQ CX, $16
	JL   tail
	VMOVDQU32 (R8), Z1
	VPCMPD    $5, Z2, Z1, K1 // K1: idx >= 0
	VPXORD    Z0, Z0, Z0
	VGATHERDPS (SI)(Z1*4), K1, Z0
	VMOVUPS   Z0, (DI)
	ADDQ      $64, DI
	ADDQ      $64, R8
	SUBQ      $16, CX
	JMP       loop16

tail:
	TESTQ CX, CX
	JE    done
	MOVL  $1, AX
	SHLL  CX, AX
	DECL  AX
	KMOVW AX, K2                 // K2: the n % 16 elements left
	VMOVDQU32.Z (R8), K2, Z1
	VPCMPD      $5, Z2, Z1, K2, K1
	VPXORD      Z0, Z0, Z0
	VGATHERDPS  (SI)(Z1*4), K1, Z0
	VMOVUPS     Z0, K2, (DI)

done:
	VZEROUPPER
	RET

// func panels512(dst *float32, stride int, src *float32, panels int)
// copies src[16j : 16j+16] to dst[j·stride :] for j < panels.
TEXT ·panels512(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ stride+8(FP), DX
	SHLQ $2, DX
	MOVQ src+16(FP), SI
	MOVQ panels+24(FP), CX
	TESTQ CX, CX
	JE    pdone

ploop:
	VMOVUPS (SI), Z0
	VMOVUPS Z0, (DI)
	ADDQ    $64, SI
	ADDQ    DX, DI
	DECQ    CX
	JNE     ploop

pdone:
	VZEROUPPER
	RET

// func biasReLU512(dst, src *float32, n int, b float32, relu bool)
// dst[i] = src[i] + b, then max(·, 0) if relu (NaN and -0 become 0, as
// keepPositive makes them), for i < n.
TEXT ·biasReLU512(SB), NOSPLIT, $0-29
	MOVQ         dst+0(FP), DI
	MOVQ         src+8(FP), SI
	MOVQ         n+16(FP), CX
	VBROADCASTSS b+24(FP), Z3
	MOVBQZX      relu+28(FP), R9
	VPXORD       Z2, Z2, Z2

bloop:
	CMPQ CX, $16
	JL   btail
	VMOVUPS (SI), Z0
	VADDPS  Z3, Z0, Z0
	TESTQ   R9, R9
	JE      bstore
	VMAXPS  Z2, Z0, Z0

bstore:
	VMOVUPS Z0, (DI)
	ADDQ    $64, SI
	ADDQ    $64, DI
	SUBQ    $16, CX
	JMP     bloop

btail:
	TESTQ CX, CX
	JE    bdone
	MOVL  $1, AX
	SHLL  CX, AX
	DECL  AX
	KMOVW AX, K1
	VMOVUPS.Z (SI), K1, Z0
	VADDPS    Z3, Z0, Z0
	TESTQ     R9, R9
	JE        bstore2
	VMAXPS    Z2, Z0, Z0

bstore2:
	VMOVUPS Z0, K1, (DI)

bdone:
	VZEROUPPER
	RET

// func transpose16x512(dst *float32, rows *[16]*float32, n int)
// dst[p·16+l] = rows[l][p] for p < n (a multiple of 16): 16×16 blocks
// transposed in registers.
TEXT ·transpose16x512(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ rows+8(FP), R8
	MOVQ n+16(FP), CX
	XORQ R10, R10 // byte offset into each row
	SHRQ $4, CX
	TESTQ CX, CX
	JE    tdone

tloop:
	MOVQ    0(R8), AX
	VMOVUPS (AX)(R10*1), Z0
	MOVQ    8(R8), AX
	VMOVUPS (AX)(R10*1), Z1
	MOVQ    16(R8), AX
	VMOVUPS (AX)(R10*1), Z2
	MOVQ    24(R8), AX
	VMOVUPS (AX)(R10*1), Z3
	MOVQ    32(R8), AX
	VMOVUPS (AX)(R10*1), Z4
	MOVQ    40(R8), AX
	VMOVUPS (AX)(R10*1), Z5
	MOVQ    48(R8), AX
	VMOVUPS (AX)(R10*1), Z6
	MOVQ    56(R8), AX
	VMOVUPS (AX)(R10*1), Z7
	MOVQ    64(R8), AX
	VMOVUPS (AX)(R10*1), Z8
	MOVQ    72(R8), AX
	VMOVUPS (AX)(R10*1), Z9
	MOVQ    80(R8), AX
	VMOVUPS (AX)(R10*1), Z10
	MOVQ    88(R8), AX
	VMOVUPS (AX)(R10*1), Z11
	MOVQ    96(R8), AX
	VMOVUPS (AX)(R10*1), Z12
	MOVQ    104(R8), AX
	VMOVUPS (AX)(R10*1), Z13
	MOVQ    112(R8), AX
	VMOVUPS (AX)(R10*1), Z14
	MOVQ    120(R8), AX
	VMOVUPS (AX)(R10*1), Z15
	VUNPCKLPS Z1, Z0, Z16
	VUNPCKHPS Z1, Z0, Z17
	VUNPCKLPS Z3, Z2, Z18
	VUNPCKHPS Z3, Z2, Z19
	VUNPCKLPS Z5, Z4, Z20
	VUNPCKHPS Z5, Z4, Z21
	VUNPCKLPS Z7, Z6, Z22
	VUNPCKHPS Z7, Z6, Z23
	VUNPCKLPS Z9, Z8, Z24
	VUNPCKHPS Z9, Z8, Z25
	VUNPCKLPS Z11, Z10, Z26
	VUNPCKHPS Z11, Z10, Z27
	VUNPCKLPS Z13, Z12, Z28
	VUNPCKHPS Z13, Z12, Z29
	VUNPCKLPS Z15, Z14, Z30
	VUNPCKHPS Z15, Z14, Z31
	VUNPCKLPD Z18, Z16, Z0
	VUNPCKHPD Z18, Z16, Z1
	VUNPCKLPD Z19, Z17, Z2
	VUNPCKHPD Z19, Z17, Z3
	VUNPCKLPD Z22, Z20, Z4
	VUNPCKHPD Z22, Z20, Z5
	VUNPCKLPD Z23, Z21, Z6
	VUNPCKHPD Z23, Z21, Z7
	VUNPCKLPD Z26, Z24, Z8
	VUNPCKHPD Z26, Z24, Z9
	VUNPCKLPD Z27, Z25, Z10
	VUNPCKHPD Z27, Z25, Z11
	VUNPCKLPD Z30, Z28, Z12
	VUNPCKHPD Z30, Z28, Z13
	VUNPCKLPD Z31, Z29, Z14
	VUNPCKHPD Z31, Z29, Z15
	VSHUFF32X4 $0x88, Z4, Z0, Z16
	VSHUFF32X4 $0x88, Z5, Z1, Z17
	VSHUFF32X4 $0x88, Z6, Z2, Z18
	VSHUFF32X4 $0x88, Z7, Z3, Z19
	VSHUFF32X4 $0xdd, Z4, Z0, Z20
	VSHUFF32X4 $0xdd, Z5, Z1, Z21
	VSHUFF32X4 $0xdd, Z6, Z2, Z22
	VSHUFF32X4 $0xdd, Z7, Z3, Z23
	VSHUFF32X4 $0x88, Z12, Z8, Z24
	VSHUFF32X4 $0x88, Z13, Z9, Z25
	VSHUFF32X4 $0x88, Z14, Z10, Z26
	VSHUFF32X4 $0x88, Z15, Z11, Z27
	VSHUFF32X4 $0xdd, Z12, Z8, Z28
	VSHUFF32X4 $0xdd, Z13, Z9, Z29
	VSHUFF32X4 $0xdd, Z14, Z10, Z30
	VSHUFF32X4 $0xdd, Z15, Z11, Z31
	VSHUFF32X4 $0x88, Z24, Z16, Z0
	VSHUFF32X4 $0x88, Z25, Z17, Z1
	VSHUFF32X4 $0x88, Z26, Z18, Z2
	VSHUFF32X4 $0x88, Z27, Z19, Z3
	VSHUFF32X4 $0x88, Z28, Z20, Z4
	VSHUFF32X4 $0x88, Z29, Z21, Z5
	VSHUFF32X4 $0x88, Z30, Z22, Z6
	VSHUFF32X4 $0x88, Z31, Z23, Z7
	VSHUFF32X4 $0xdd, Z24, Z16, Z8
	VSHUFF32X4 $0xdd, Z25, Z17, Z9
	VSHUFF32X4 $0xdd, Z26, Z18, Z10
	VSHUFF32X4 $0xdd, Z27, Z19, Z11
	VSHUFF32X4 $0xdd, Z28, Z20, Z12
	VSHUFF32X4 $0xdd, Z29, Z21, Z13
	VSHUFF32X4 $0xdd, Z30, Z22, Z14
	VSHUFF32X4 $0xdd, Z31, Z23, Z15
	VMOVUPS Z0, 0(DI)
	VMOVUPS Z1, 64(DI)
	VMOVUPS Z2, 128(DI)
	VMOVUPS Z3, 192(DI)
	VMOVUPS Z4, 256(DI)
	VMOVUPS Z5, 320(DI)
	VMOVUPS Z6, 384(DI)
	VMOVUPS Z7, 448(DI)
	VMOVUPS Z8, 512(DI)
	VMOVUPS Z9, 576(DI)
	VMOVUPS Z10, 640(DI)
	VMOVUPS Z11, 704(DI)
	VMOVUPS Z12, 768(DI)
	VMOVUPS Z13, 832(DI)
	VMOVUPS Z14, 896(DI)
	VMOVUPS Z15, 960(DI)
	ADDQ $1024, DI
	ADDQ $64, R10
	DECQ CX
	JNE  tloop

tdone:
	VZEROUPPER
	RET

// func addRows512(dst *float32, ldd int, src *float32, lds, rows, width int)
// dst[r·ldd+c] += src[r·lds+c] for r < rows, c < width.
TEXT ·addRows512(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ ldd+8(FP), R8
	SHLQ $2, R8
	MOVQ src+16(FP), SI
	MOVQ lds+24(FP), R9
	SHLQ $2, R9
	MOVQ rows+32(FP), R10
	MOVQ width+40(FP), R11
	TESTQ R10, R10
	JE    adone
	// K1: the width % 16 columns of a row's last chunk.
	MOVQ  R11, CX
	ANDQ  $15, CX
	MOVL  $1, AX
	SHLL  CX, AX
	DECL  AX
	KMOVW AX, K1

arow:
	MOVQ DI, BX
	MOVQ SI, DX
	MOVQ R11, CX

achunk:
	CMPQ CX, $16
	JL   atail
	VMOVUPS (DX), Z0
	VADDPS  (BX), Z0, Z0
	VMOVUPS Z0, (BX)
	ADDQ    $64, BX
	ADDQ    $64, DX
	SUBQ    $16, CX
	JMP     achunk

atail:
	TESTQ CX, CX
	JE    anext
	VMOVUPS.Z (DX), K1, Z0
	VMOVUPS.Z (BX), K1, Z1
	VADDPS    Z0, Z1, Z1
	VMOVUPS   Z1, K1, (BX)

anext:
	ADDQ R8, DI
	ADDQ R9, SI
	DECQ R10
	JNE  arow

adone:
	VZEROUPPER
	RET

// func col2imPlane512(dst *float32, h, w, ow int, col *float32, terms *col2imTerm, nterms int)
// For each row ih < h of the plane dst (h×w) and each 16-column chunk, the
// sum, in terms order starting from zero, of the terms that cover row ih
// (ihLo <= ih < ihHi): col[off + ih·ow + iw] for lo <= iw < hi. Lanes a
// term does not cover read nothing and add +0, which leaves any sum that
// started at +0 unchanged.
TEXT ·col2imPlane512(SB), NOSPLIT, $0-56
	MOVQ dst+0(FP), DI
	MOVQ h+8(FP), R8
	MOVQ w+16(FP), R9
	MOVQ ow+24(FP), R10
	MOVQ col+32(FP), SI
	MOVQ terms+40(FP), R11
	MOVQ nterms+48(FP), R12
	XORQ R13, R13 // ih

crow:
	CMPQ R13, R8
	JGE  cdone
	XORQ R14, R14 // c0: the chunk's first column

cchunk:
	CMPQ   R14, R9
	JGE    cnextrow
	VPXORD Z0, Z0, Z0
	MOVQ   R11, BX // term pointer
	MOVQ   R12, R15 // terms left

cterm:
	TESTQ R15, R15
	JE    cstore
	// skip a term that does not cover row ih
	CMPQ  R13, 24(BX)
	JL    cskip
	CMPQ  R13, 32(BX)
	JGE   cskip
	// lanes [a, b): a = clamp(lo-c0, 0, 16), b = clamp(hi-c0, 0, 16)
	MOVQ  8(BX), AX
	SUBQ  R14, AX
	MOVQ  $0, DX
	CMPQ  AX, DX
	CMOVQLT DX, AX
	MOVQ  $16, DX
	CMPQ  AX, DX
	CMOVQGT DX, AX
	MOVQ  16(BX), CX
	SUBQ  R14, CX
	MOVQ  $0, DX
	CMPQ  CX, DX
	CMOVQLT DX, CX
	MOVQ  $16, DX
	CMPQ  CX, DX
	CMOVQGT DX, CX
	CMPQ  AX, CX
	JGE   cskip
	// mask = (1<<b - 1) &^ (1<<a - 1)
	MOVL  $1, DX
	SHLL  CX, DX
	DECL  DX
	MOVQ  AX, CX
	MOVL  $1, AX
	SHLL  CX, AX
	DECL  AX
	NOTL  AX
	ANDL  AX, DX
	KMOVW DX, K1
	// address: col + 4·(off + ih·ow + c0)
	MOVQ  R13, AX
	IMULQ R10, AX
	ADDQ  0(BX), AX
	ADDQ  R14, AX
	VMOVUPS.Z (SI)(AX*4), K1, Z1
	VADDPS    Z1, Z0, Z0

cskip:
	ADDQ $40, BX
	DECQ R15
	JMP  cterm

cstore:
	// store lanes c0 .. min(c0+16, w)
	MOVQ R9, CX
	SUBQ R14, CX
	MOVQ $16, DX
	CMPQ CX, DX
	CMOVQGT DX, CX
	MOVL $1, AX
	SHLL CX, AX
	DECL AX
	KMOVW AX, K2
	MOVQ R13, AX
	IMULQ R9, AX
	ADDQ R14, AX
	VMOVUPS Z0, K2, (DI)(AX*4)
	ADDQ $16, R14
	JMP  cchunk

cnextrow:
	INCQ R13
	JMP  crow

cdone:
	VZEROUPPER
	RET

// func rowsToPanel512(dst, src *float32, lds, kb int)
// dst[p·16 : p·16+16] = src[p·lds : p·lds+16] for p < kb: one B panel from
// a row-major matrix.
TEXT ·rowsToPanel512(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ lds+16(FP), DX
	SHLQ $2, DX
	MOVQ kb+24(FP), CX
	TESTQ CX, CX
	JE    rdone

rloop:
	VMOVUPS (SI), Z0
	VMOVUPS Z0, (DI)
	ADDQ    DX, SI
	ADDQ    $64, DI
	DECQ    CX
	JNE     rloop

rdone:
	VZEROUPPER
	RET

// func gemv512(k int, a, b *float32, ldb int, c *float32, n int, load bool)
// c[j] = Σ_p a[p]·b[p·ldb+j] (+ c[j] if load) for j < n: one row of A
// times a row-major block of B, each element summed as kern6x16 sums it
// (from zero, one fused multiply-add per p in order, then added to c).
// Four chunks of 16 columns at a time, then single chunks, the last one
// masked.
TEXT ·gemv512(SB), NOSPLIT, $0-49
	MOVQ    k+0(FP), R8
	MOVQ    a+8(FP), SI
	MOVQ    b+16(FP), DI
	MOVQ    ldb+24(FP), R9
	SHLQ    $2, R9
	MOVQ    c+32(FP), DX
	MOVQ    n+40(FP), R10
	MOVBQZX load+48(FP), R11

vquad:
	CMPQ   R10, $64
	JL     vsingle
	VPXORD Z0, Z0, Z0
	VPXORD Z1, Z1, Z1
	VPXORD Z2, Z2, Z2
	VPXORD Z3, Z3, Z3
	MOVQ   SI, AX
	MOVQ   DI, BX
	MOVQ   R8, CX
	TESTQ  CX, CX
	JE     vquadstore

vquadloop:
	VBROADCASTSS (AX), Z4
	VFMADD231PS  (BX), Z4, Z0
	VFMADD231PS  64(BX), Z4, Z1
	VFMADD231PS  128(BX), Z4, Z2
	VFMADD231PS  192(BX), Z4, Z3
	ADDQ         $4, AX
	ADDQ         R9, BX
	DECQ         CX
	JNE          vquadloop

vquadstore:
	TESTQ  R11, R11
	JE     vquadput
	VADDPS (DX), Z0, Z0
	VADDPS 64(DX), Z1, Z1
	VADDPS 128(DX), Z2, Z2
	VADDPS 192(DX), Z3, Z3

vquadput:
	VMOVUPS Z0, (DX)
	VMOVUPS Z1, 64(DX)
	VMOVUPS Z2, 128(DX)
	VMOVUPS Z3, 192(DX)
	ADDQ    $256, DI
	ADDQ    $256, DX
	SUBQ    $64, R10
	JMP     vquad

vsingle:
	TESTQ R10, R10
	JE    vdone
	// K1: the columns of this chunk (all 16, or the n % 16 left)
	MOVQ  R10, CX
	CMPQ  CX, $16
	JL    vmask
	MOVQ  $16, CX

vmask:
	MOVL   $1, AX
	SHLL   CX, AX
	DECL   AX
	KMOVW  AX, K1
	VPXORD Z0, Z0, Z0
	MOVQ   SI, AX
	MOVQ   DI, BX
	MOVQ   R8, CX
	TESTQ  CX, CX
	JE     vsinglestore

vsingleloop:
	VBROADCASTSS (AX), Z4
	VMOVUPS.Z    (BX), K1, Z5
	VFMADD231PS  Z5, Z4, Z0
	ADDQ         $4, AX
	ADDQ         R9, BX
	DECQ         CX
	JNE          vsingleloop

vsinglestore:
	TESTQ     R11, R11
	JE        vsingleput
	VMOVUPS.Z (DX), K1, Z5
	VADDPS    Z5, Z0, Z0

vsingleput:
	VMOVUPS Z0, K1, (DX)
	ADDQ    $64, DI
	ADDQ    $64, DX
	SUBQ    $16, R10
	JGT     vsingle

vdone:
	VZEROUPPER
	RET

// func interleave6x512(dst *float32, rows *[6]*float32, n int, idx *int32, masks *uint16)
// dst[p·6+i] = rows[i][p] for p < n (a multiple of 16). For each block of
// 16 steps, output vector k (of six) takes lane l from row (16k+l) mod 6:
// idx[k] holds, per lane, the step and which row of its pair; three masked
// two-source permutes (rows 0-1, 2-3, 4-5) fill the lanes of each pair,
// the lanes of the other pairs keeping their index for the next permute.
TEXT ·interleave6x512(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ rows+8(FP), R8
	MOVQ n+16(FP), CX
	MOVQ idx+24(FP), R9
	MOVQ masks+32(FP), R10
	MOVQ 0(R8), R11
	MOVQ 8(R8), R12
	MOVQ 16(R8), R13
	MOVQ 24(R8), R14
	MOVQ 32(R8), R15
	MOVQ 40(R8), BX
	XORQ AX, AX // byte offset into the rows
	SHRQ $4, CX
	TESTQ CX, CX
	JE    idone
	VMOVDQU32 0(R9), Z10
	VMOVDQU32 64(R9), Z11
	VMOVDQU32 128(R9), Z12
	VMOVDQU32 192(R9), Z13
	VMOVDQU32 256(R9), Z14
	VMOVDQU32 320(R9), Z15

iloop:
	VMOVUPS (R11)(AX*1), Z0
	VMOVUPS (R12)(AX*1), Z1
	VMOVUPS (R13)(AX*1), Z2
	VMOVUPS (R14)(AX*1), Z3
	VMOVUPS (R15)(AX*1), Z4
	VMOVUPS (BX)(AX*1), Z5
	VMOVDQA32 Z10, Z6
	KMOVW 0(R10), K1
	KMOVW 2(R10), K2
	KMOVW 4(R10), K3
	VPERMI2PS Z1, Z0, K1, Z6
	VPERMI2PS Z3, Z2, K2, Z6
	VPERMI2PS Z5, Z4, K3, Z6
	VMOVUPS Z6, 0(DI)
	VMOVDQA32 Z11, Z6
	KMOVW 6(R10), K1
	KMOVW 8(R10), K2
	KMOVW 10(R10), K3
	VPERMI2PS Z1, Z0, K1, Z6
	VPERMI2PS Z3, Z2, K2, Z6
	VPERMI2PS Z5, Z4, K3, Z6
	VMOVUPS Z6, 64(DI)
	VMOVDQA32 Z12, Z6
	KMOVW 12(R10), K1
	KMOVW 14(R10), K2
	KMOVW 16(R10), K3
	VPERMI2PS Z1, Z0, K1, Z6
	VPERMI2PS Z3, Z2, K2, Z6
	VPERMI2PS Z5, Z4, K3, Z6
	VMOVUPS Z6, 128(DI)
	VMOVDQA32 Z13, Z6
	KMOVW 18(R10), K1
	KMOVW 20(R10), K2
	KMOVW 22(R10), K3
	VPERMI2PS Z1, Z0, K1, Z6
	VPERMI2PS Z3, Z2, K2, Z6
	VPERMI2PS Z5, Z4, K3, Z6
	VMOVUPS Z6, 192(DI)
	VMOVDQA32 Z14, Z6
	KMOVW 24(R10), K1
	KMOVW 26(R10), K2
	KMOVW 28(R10), K3
	VPERMI2PS Z1, Z0, K1, Z6
	VPERMI2PS Z3, Z2, K2, Z6
	VPERMI2PS Z5, Z4, K3, Z6
	VMOVUPS Z6, 256(DI)
	VMOVDQA32 Z15, Z6
	KMOVW 30(R10), K1
	KMOVW 32(R10), K2
	KMOVW 34(R10), K3
	VPERMI2PS Z1, Z0, K1, Z6
	VPERMI2PS Z3, Z2, K2, Z6
	VPERMI2PS Z5, Z4, K3, Z6
	VMOVUPS Z6, 320(DI)
	ADDQ $384, DI
	ADDQ $64, AX
	DECQ CX
	JNE  iloop

idone:
	VZEROUPPER
	RET
