//go:build !purego

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

// func pool2x2Row512(top, bot, out *float32, arg *int32, n int, base, w int32, idx *int32)
// pool2x2Row for any n, sixteen outputs at a time, the last chunk masked:
// the same comparisons in the same order (strictly greater, so the first
// of equal values wins), so the same outputs and indices.
TEXT ·pool2x2Row512(SB), NOSPLIT, $0-56
	MOVQ top+0(FP), SI
	MOVQ bot+8(FP), DI
	MOVQ out+16(FP), DX
	MOVQ arg+24(FP), R8
	MOVQ n+32(FP), R13
	MOVQ idx+48(FP), R9
	VMOVDQU32 0(R9), Z20             // even lanes of two vectors: 0 2 4 … 30
	VMOVDQU32 64(R9), Z21            // odd: 1 3 5 … 31
	MOVL base+40(FP), AX
	VPBROADCASTD AX, Z23
	VPADDD Z20, Z23, Z23             // P = base + 2·[0 … 15]
	MOVL $1, AX
	VPBROADCASTD AX, Z24             // ones
	MOVL w+44(FP), AX
	VPBROADCASTD AX, Z25             // w
	MOVL $32, AX
	VPBROADCASTD AX, Z26             // step: 32 input columns per 16 outputs

ploop:
	TESTQ R13, R13
	JLE   pdone
	// K1: the outputs of this chunk; K2, K3: their input columns in the
	// two vectors of each row
	MOVQ  R13, CX
	CMPQ  CX, $16
	JLE   pc1
	MOVQ  $16, CX

pc1:
	MOVL  $1, AX
	SHLL  CX, AX
	DECL  AX
	KMOVW AX, K1
	SHLQ  $1, CX
	MOVQ  CX, R10
	CMPQ  CX, $16
	JLE   pc2
	MOVQ  $16, CX

pc2:
	MOVL  $1, AX
	SHLL  CX, AX
	DECL  AX
	KMOVW AX, K2
	SUBQ  CX, R10
	MOVQ  R10, CX
	MOVL  $1, AX
	SHLL  CX, AX
	DECL  AX
	KMOVW AX, K3

	VMOVUPS.Z (SI), K2, Z0
	VMOVUPS.Z 64(SI), K3, Z1
	VMOVUPS.Z (DI), K2, Z2
	VMOVUPS.Z 64(DI), K3, Z3
	VMOVAPS    Z20, Z4
	VPERMI2PS  Z1, Z0, Z4            // top even
	VMOVAPS    Z21, Z5
	VPERMI2PS  Z1, Z0, Z5            // top odd
	VMOVAPS    Z20, Z6
	VPERMI2PS  Z3, Z2, Z6            // bottom even
	VMOVAPS    Z21, Z7
	VPERMI2PS  Z3, Z2, Z7            // bottom odd

	VMOVAPS Z4, Z8                   // best = top even
	VMOVDQA32 Z23, Z9                // at = P
	VPADDD  Z24, Z23, Z14            // P+1
	VCMPPS  $0x1e, Z8, Z5, K4        // top odd > best
	VMOVAPS Z5, K4, Z8
	VMOVDQA32 Z14, K4, Z9
	VPADDD  Z25, Z23, Z14            // P+w
	VCMPPS  $0x1e, Z8, Z6, K4        // bottom even > best
	VMOVAPS Z6, K4, Z8
	VMOVDQA32 Z14, K4, Z9
	VPADDD  Z24, Z14, Z14            // P+w+1
	VCMPPS  $0x1e, Z8, Z7, K4        // bottom odd > best
	VMOVAPS Z7, K4, Z8
	VMOVDQA32 Z14, K4, Z9

	VMOVUPS Z8, K1, (DX)
	VMOVDQU32 Z9, K1, (R8)
	VPADDD  Z26, Z23, Z23
	ADDQ $128, SI
	ADDQ $128, DI
	ADDQ $64, DX
	ADDQ $64, R8
	SUBQ $16, R13
	JMP  ploop

pdone:
	VZEROUPPER
	RET
