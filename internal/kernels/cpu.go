package kernels

// The kernels' loops come in families, one per instruction set, each
// chosen at start-up from the CPU's features (golang.org/x/sys/cpu, which
// honours GODEBUG=cpu.avx512f=off and the like). A family replaces the
// portable Go loops it has versions of and leaves the rest to them.
//
// Every vector family computes each float32 matrix element with the same
// fused multiply-adds in the same order, so pathAVX2, pathAVX512 and
// pathNEON give the same bits from Gemm; pathGo rounds each product and
// sum separately. Outside the matrix products every loop, in every family,
// performs the Go loop's operations in the Go loop's order with its
// roundings (no fused multiply-adds), so it gives the Go loop's bits.
type path int8

const (
	pathGo     path = iota // portable Go: any GOARCH, and any build with -tags purego
	pathAVX2               // amd64 with AVX2 and FMA: kern6x16 and the 8-wide loops
	pathAVX512             // amd64 with AVX-512 F too: its loops first, pathAVX2's for the rest
	pathNEON               // arm64 (Advanced SIMD): kern6x16 and the 8-wide loops in NEON
)

var pathNames = [...]string{pathGo: "go", pathAVX2: "avx2", pathAVX512: "avx512", pathNEON: "neon"}

func (p path) String() string { return pathNames[p] }

// machine is what the kernels know of the CPU: the path they run and two
// facts derived from it, which the loops test.
type machine struct {
	path   path
	vector bool // kern6x16 and the 8-wide loops run (AVX2 on amd64, NEON on arm64)
	x86    bool // the AVX2 packing loops run (amd64), where no AVX-512 loop does
	wide   bool // the AVX-512 loops run
}

// cpu is the kernels' one decision about the machine, made at start-up;
// tests change it only through withPath.
var cpu = machineFor(bestPath())

func machineFor(p path) machine {
	return machine{path: p, vector: p != pathGo, x86: p == pathAVX2 || p == pathAVX512, wide: p == pathAVX512}
}

// bestPath returns the best path this machine and build support.
func bestPath() path {
	for _, p := range [...]path{pathAVX512, pathAVX2, pathNEON} {
		if supported(p) {
			return p
		}
	}
	return pathGo
}
