//go:build !purego

#include "textflag.h"

// LOAD_FLOOR sets Y15 to momentFloor, 1e-250 (adam.go), in every lane.
#define LOAD_FLOOR \
	MOVQ         $0x0c06e93f5da2824c, AX; \
	MOVQ         AX, X15; \
	VBROADCASTSD X15, Y15

// FLOOR_MOMENTS sets the lanes of m (Y1) and v (Y2) whose magnitude is
// below the floor in Y15 to zero; a NaN is kept. It uses Y3 and Y4.
#define FLOOR_MOMENTS \
	VXORPD  Y3, Y3, Y3; \
	VSUBPD  Y1, Y3, Y3; \
	VMAXPD  Y1, Y3, Y3; \
	VCMPPD  $1, Y15, Y3, Y3; \
	VANDNPD Y1, Y3, Y1; \
	VCMPPD  $1, Y15, Y2, Y4; \
	VANDNPD Y2, Y4, Y2

// func adamVec(w, gr, m, v *float64, n int, b1, b2, lrc, c2inv, eps float64)
TEXT ·adamVec(SB), NOSPLIT, $0-80
	MOVQ w+0(FP), DI
	MOVQ gr+8(FP), SI
	MOVQ m+16(FP), R8
	MOVQ v+24(FP), R9
	MOVQ n+32(FP), CX
	VBROADCASTSD b1+40(FP), Y8
	VBROADCASTSD b2+48(FP), Y9
	VBROADCASTSD lrc+56(FP), Y10
	VBROADCASTSD c2inv+64(FP), Y11
	VBROADCASTSD eps+72(FP), Y12
	// Y13 = 1-b1, Y14 = 1-b2
	MOVQ $0x3ff0000000000000, AX
	MOVQ AX, X15
	VBROADCASTSD X15, Y15
	VSUBPD Y8, Y15, Y13
	VSUBPD Y9, Y15, Y14
	LOAD_FLOOR
	XORQ AX, AX

loop:
	CMPQ AX, CX
	JGE  done
	VMOVUPD (SI)(AX*8), Y0     // g
	VMOVUPD (R8)(AX*8), Y1     // m
	VMOVUPD (R9)(AX*8), Y2     // v
	VMULPD  Y8, Y1, Y1         // b1*m
	VMULPD  Y13, Y0, Y3        // (1-b1)*g
	VADDPD  Y3, Y1, Y1         // m
	VMULPD  Y0, Y0, Y4         // g*g
	VMULPD  Y9, Y2, Y2         // b2*v
	VMULPD  Y14, Y4, Y4        // (1-b2)*g*g
	VADDPD  Y4, Y2, Y2         // v
	FLOOR_MOMENTS
	VMOVUPD Y1, (R8)(AX*8)
	VMOVUPD Y2, (R9)(AX*8)
	VSQRTPD Y2, Y5             // sqrt(v)
	VMULPD  Y11, Y5, Y5        // * c2inv
	VADDPD  Y12, Y5, Y5        // + eps
	VMULPD  Y10, Y1, Y6        // lrc*m
	VDIVPD  Y5, Y6, Y6         // (lrc*m)/(...)
	VMOVUPD (DI)(AX*8), Y7
	VSUBPD  Y6, Y7, Y7
	VMOVUPD Y7, (DI)(AX*8)
	ADDQ    $4, AX
	JMP     loop

done:
	VZEROUPPER
	RET

// func adam32Vec(w, gr *float32, m, v *float64, n int, b1, b2, lrc, c2inv, eps float64)
// The loop of adamVec with w and g read as float32, widened to float64 in
// registers, and w narrowed back (round to nearest, as Go's conversion).
TEXT ·adam32Vec(SB), NOSPLIT, $0-80
	MOVQ w+0(FP), DI
	MOVQ gr+8(FP), SI
	MOVQ m+16(FP), R8
	MOVQ v+24(FP), R9
	MOVQ n+32(FP), CX
	VBROADCASTSD b1+40(FP), Y8
	VBROADCASTSD b2+48(FP), Y9
	VBROADCASTSD lrc+56(FP), Y10
	VBROADCASTSD c2inv+64(FP), Y11
	VBROADCASTSD eps+72(FP), Y12
	MOVQ $0x3ff0000000000000, AX
	MOVQ AX, X15
	VBROADCASTSD X15, Y15
	VSUBPD Y8, Y15, Y13
	VSUBPD Y9, Y15, Y14
	LOAD_FLOOR
	XORQ AX, AX

loop32:
	CMPQ AX, CX
	JGE  done32
	VCVTPS2PD (SI)(AX*4), Y0   // g
	VMOVUPD (R8)(AX*8), Y1     // m
	VMOVUPD (R9)(AX*8), Y2     // v
	VMULPD  Y8, Y1, Y1         // b1*m
	VMULPD  Y13, Y0, Y3        // (1-b1)*g
	VADDPD  Y3, Y1, Y1         // m
	VMULPD  Y0, Y0, Y4         // g*g
	VMULPD  Y9, Y2, Y2         // b2*v
	VMULPD  Y14, Y4, Y4        // (1-b2)*g*g
	VADDPD  Y4, Y2, Y2         // v
	FLOOR_MOMENTS
	VMOVUPD Y1, (R8)(AX*8)
	VMOVUPD Y2, (R9)(AX*8)
	VSQRTPD Y2, Y5             // sqrt(v)
	VMULPD  Y11, Y5, Y5        // * c2inv
	VADDPD  Y12, Y5, Y5        // + eps
	VMULPD  Y10, Y1, Y6        // lrc*m
	VDIVPD  Y5, Y6, Y6         // (lrc*m)/(...)
	VCVTPS2PD (DI)(AX*4), Y7   // w
	VSUBPD  Y6, Y7, Y7
	VCVTPD2PSY Y7, X7
	VMOVUPS X7, (DI)(AX*4)
	ADDQ    $4, AX
	JMP     loop32

done32:
	VZEROUPPER
	RET
