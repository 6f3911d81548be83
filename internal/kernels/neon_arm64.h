// Encodings of the Advanced SIMD (NEON) instructions that Go's arm64
// assembler does not know, as WORD directives (Arm Architecture Reference
// Manual, A64 "Advanced SIMD" encodings); d, n, m are register numbers
// (Vd, Vn, Vm). Each was checked against llvm-mc's encoding and is
// exercised by the tests under qemu-aarch64.

// Single precision, four lanes.
#define FADD4S(d, n, m)   WORD $(0x4e20d400 | ((m)<<16) | ((n)<<5) | (d))
#define FSUB4S(d, n, m)   WORD $(0x4ea0d400 | ((m)<<16) | ((n)<<5) | (d))
#define FMUL4S(d, n, m)   WORD $(0x6e20dc00 | ((m)<<16) | ((n)<<5) | (d))
#define FDIV4S(d, n, m)   WORD $(0x6e20fc00 | ((m)<<16) | ((n)<<5) | (d))
#define FMINNM4S(d, n, m) WORD $(0x4ea0c400 | ((m)<<16) | ((n)<<5) | (d))
#define FMAXNM4S(d, n, m) WORD $(0x4e20c400 | ((m)<<16) | ((n)<<5) | (d))
// FCMGT4S sets Vd's lanes to all ones where Vn > Vm (ordered), else zero.
#define FCMGT4S(d, n, m)  WORD $(0x6ea0e400 | ((m)<<16) | ((n)<<5) | (d))
// FCMGTZ4S: where Vn > 0.
#define FCMGTZ4S(d, n)    WORD $(0x4ea0c800 | ((n)<<5) | (d))
// FRINTM4S rounds toward minus infinity; FCVTZS4S converts to int32
// toward zero.
#define FRINTM4S(d, n)    WORD $(0x4e219800 | ((n)<<5) | (d))
#define FCVTZS4S(d, n)    WORD $(0x4ea1b800 | ((n)<<5) | (d))
// FMLAE4S is Vd += Vn · Vm[lane], fused (one rounding), for lane < 4.
#define FMLAE4S(d, n, m, lane) WORD $(0x4f801000 | (((lane)&1)<<21) | ((m)<<16) | (((lane)>>1)<<11) | ((n)<<5) | (d))

// Double precision, two lanes.
#define FADD2D(d, n, m)   WORD $(0x4e60d400 | ((m)<<16) | ((n)<<5) | (d))
#define FSUB2D(d, n, m)   WORD $(0x4ee0d400 | ((m)<<16) | ((n)<<5) | (d))
#define FMUL2D(d, n, m)   WORD $(0x6e60dc00 | ((m)<<16) | ((n)<<5) | (d))
#define FDIV2D(d, n, m)   WORD $(0x6e60fc00 | ((m)<<16) | ((n)<<5) | (d))
#define FSQRT2D(d, n)     WORD $(0x6ee1f800 | ((n)<<5) | (d))
#define FABS2D(d, n)      WORD $(0x4ee0f800 | ((n)<<5) | (d))
#define FCMGT2D(d, n, m)  WORD $(0x6ee0e400 | ((m)<<16) | ((n)<<5) | (d))
// FCVTL2D widens the low two single-precision lanes of Vn, FCVTL22D the
// high two; FCVTN2S narrows Vn's two lanes into Vd's low half (rounding
// to nearest), FCVTN24S into its high half.
#define FCVTL2D(d, n)     WORD $(0x0e617800 | ((n)<<5) | (d))
#define FCVTL22D(d, n)    WORD $(0x4e617800 | ((n)<<5) | (d))
#define FCVTN2S(d, n)     WORD $(0x0e616800 | ((n)<<5) | (d))
#define FCVTN24S(d, n)    WORD $(0x4e616800 | ((n)<<5) | (d))

// FNEG4S flips the sign of each lane (NaNs too, as a sign-bit XOR does).
#define FNEG4S(d, n)      WORD $(0x6ea0f800 | ((n)<<5) | (d))
// BIC16B is Vd = Vn AND NOT Vm.
#define BIC16B(d, n, m)   WORD $(0x4e601c00 | ((m)<<16) | ((n)<<5) | (d))
