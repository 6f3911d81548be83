//go:build !purego

#include "textflag.h"

// func keepPositiveVec(dst, x, v *float32, n int)
// dst[i] = v[i] where x[i] > 0 (ordered: NaN counts as not positive), else 0;
// n is a multiple of 8.
TEXT ·keepPositiveVec(SB), NOSPLIT, $0-32
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ v+16(FP), DX
	MOVQ n+24(FP), CX
	VXORPS Y15, Y15, Y15
	XORQ AX, AX

loop:
	CMPQ AX, CX
	JGE  done
	VMOVUPS (SI)(AX*4), Y0
	VCMPPS  $0x1e, Y15, Y0, Y1   // x > 0
	VANDPS  (DX)(AX*4), Y1, Y2
	VMOVUPS Y2, (DI)(AX*4)
	ADDQ    $8, AX
	JMP     loop

done:
	VZEROUPPER
	RET
