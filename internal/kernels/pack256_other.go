//go:build purego || !amd64

package kernels

// The AVX2 packing loops never run here (cpu.x86 is false); these stand in
// for pack256_amd64.go's declarations so that the callers compile.

func transpose16x256(dst *float32, rows *[16]*float32, n int) { panic("unreachable") }

func interleave6x256(dst *float32, rows *[6]*float32, n int) { panic("unreachable") }

func panels256(dst *float32, stride int, src *float32, panels int) { panic("unreachable") }

func rowsToPanel256(dst, src *float32, lds, kb int) { panic("unreachable") }

func biasReLU256(dst, src *float32, n int, b float32, relu bool) { panic("unreachable") }

func addRows256(dst *float32, ldd int, src *float32, lds, rows, width int) { panic("unreachable") }

func gather256(dst, src *float32, idx *int32, n int) { panic("unreachable") }

func gatherRuns256(dst, src *float32, idx, runs *int32, n int) int { panic("unreachable") }
