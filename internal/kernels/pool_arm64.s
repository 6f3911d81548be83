//go:build !purego

#include "textflag.h"
#include "neon_arm64.h"

// func pool2x2Row(top, bot, out *float32, arg *int32, n int, base, w int32)
// For ow in [0, n) (n a multiple of 4): out[ow] = max of top[2ow],
// top[2ow+1], bot[2ow], bot[2ow+1], the first of them on ties, and arg[ow]
// = its index in the plane: base+2ow, base+2ow+1, base+w+2ow,
// base+w+2ow+1. The comparisons of pool_amd64.s, in its order.
TEXT ·pool2x2Row(SB), NOSPLIT, $0-48
	MOVD top+0(FP), R0
	MOVD bot+8(FP), R1
	MOVD out+16(FP), R2
	MOVD arg+24(FP), R3
	MOVD n+32(FP), R4
	MOVW base+40(FP), R5
	VDUP R5, V10.S4
	MOVD $0x0000000200000000, R6
	VMOV R6, V14.D[0]
	MOVD $0x0000000600000004, R6
	VMOV R6, V14.D[1]
	VADD V14.S4, V10.S4, V10.S4      // P = base + [0 2 4 6]
	MOVW $1, R6
	VDUP R6, V11.S4                  // ones
	MOVW w+44(FP), R6
	VDUP R6, V12.S4                  // w
	MOVW $8, R6
	VDUP R6, V13.S4                  // 8 input columns per 4 outputs
	LSR  $2, R4

loop:
	CBZ  R4, done
	VLD1.P 32(R0), [V0.S4, V1.S4]
	VLD1.P 32(R1), [V2.S4, V3.S4]
	VUZP1 V1.S4, V0.S4, V4.S4        // top even
	VUZP2 V1.S4, V0.S4, V5.S4        // top odd
	VUZP1 V3.S4, V2.S4, V6.S4        // bottom even
	VUZP2 V3.S4, V2.S4, V7.S4        // bottom odd
	VORR V4.B16, V4.B16, V8.B16      // best = top even
	VORR V10.B16, V10.B16, V9.B16    // at = P
	VADD V11.S4, V10.S4, V14.S4      // P+1
	FCMGT4S(15, 5, 8)                // top odd > best
	VBIT V15.B16, V5.B16, V8.B16
	VBIT V15.B16, V14.B16, V9.B16
	VADD V12.S4, V10.S4, V14.S4      // P+w
	FCMGT4S(15, 6, 8)                // bottom even > best
	VBIT V15.B16, V6.B16, V8.B16
	VBIT V15.B16, V14.B16, V9.B16
	VADD V11.S4, V14.S4, V14.S4      // P+w+1
	FCMGT4S(15, 7, 8)                // bottom odd > best
	VBIT V15.B16, V7.B16, V8.B16
	VBIT V15.B16, V14.B16, V9.B16
	VST1.P [V8.S4], 16(R2)
	VST1.P [V9.S4], 16(R3)
	VADD V13.S4, V10.S4, V10.S4
	SUB  $1, R4
	B    loop

done:
	RET
