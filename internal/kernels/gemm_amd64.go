package kernels

import "golang.org/x/sys/cpu"

// useAsm selects the AVX2+FMA micro-kernel for float32.
var useAsm = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// kern6x16 computes the 6×16 tile C = Ap·Bp (+ C if load) from k packed
// steps (6 values of A, 16 of B each); ldc is C's row stride in elements.
//
//go:noescape
func kern6x16(k int, a, b, c *float32, ldc int, load bool)
