#include "textflag.h"

// func pool2x2Row(top, bot, out *float32, arg *int32, n int, base, w int32)
// For ow in [0, n) (n a multiple of 4): out[ow] = max of top[2ow], top[2ow+1],
// bot[2ow], bot[2ow+1], the first of them on ties, and arg[ow] = its index
// in the plane: base+2ow, base+2ow+1, base+w+2ow, base+w+2ow+1.
TEXT ·pool2x2Row(SB), NOSPLIT, $0-48
	MOVQ top+0(FP), SI
	MOVQ bot+8(FP), DI
	MOVQ out+16(FP), DX
	MOVQ arg+24(FP), R8
	MOVQ n+32(FP), CX
	MOVL base+40(FP), AX
	MOVD AX, X10
	VPBROADCASTD X10, X10           // P = base + [0 2 4 6]
	MOVQ $0x0000000200000000, AX
	MOVQ AX, X11
	MOVQ $0x0000000600000004, AX
	MOVQ AX, X12
	VPUNPCKLQDQ X12, X11, X11       // [0 2 4 6]
	VPADDD X11, X10, X10
	MOVL $1, AX
	MOVD AX, X11
	VPBROADCASTD X11, X11           // ones
	MOVL w+44(FP), AX
	MOVD AX, X12
	VPBROADCASTD X12, X12           // w
	MOVL $8, AX
	MOVD AX, X13
	VPBROADCASTD X13, X13           // step: 8 input columns per 4 outputs
	XORQ AX, AX

loop:
	CMPQ AX, CX
	JGE  done
	VMOVUPS (SI), X0
	VMOVUPS 16(SI), X1
	VMOVUPS (DI), X2
	VMOVUPS 16(DI), X3
	VSHUFPS $0x88, X1, X0, X4       // top even
	VSHUFPS $0xDD, X1, X0, X5       // top odd
	VSHUFPS $0x88, X3, X2, X6       // bottom even
	VSHUFPS $0xDD, X3, X2, X7       // bottom odd

	VMOVAPS X4, X8                  // best = top even
	VMOVDQA X10, X9                 // at = P
	VPADDD  X11, X10, X14           // P+1
	VCMPPS  $0x1e, X8, X5, X15      // top odd > best
	VBLENDVPS X15, X5, X8, X8
	VBLENDVPS X15, X14, X9, X9
	VPADDD  X12, X10, X14           // P+w
	VCMPPS  $0x1e, X8, X6, X15      // bottom even > best
	VBLENDVPS X15, X6, X8, X8
	VBLENDVPS X15, X14, X9, X9
	VPADDD  X11, X14, X14           // P+w+1
	VCMPPS  $0x1e, X8, X7, X15      // bottom odd > best
	VBLENDVPS X15, X7, X8, X8
	VBLENDVPS X15, X14, X9, X9

	VMOVUPS X8, (DX)
	VMOVDQU X9, (R8)
	VPADDD  X13, X10, X10
	ADDQ $32, SI
	ADDQ $32, DI
	ADDQ $16, DX
	ADDQ $16, R8
	ADDQ $4, AX
	JMP  loop

done:
	VZEROUPPER
	RET
