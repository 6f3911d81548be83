package main

import (
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/cpu"
)

// A cpuClass is a set of instructions that both frameworks are held to, so
// that one machine measures several classes of CPU: dlrun through GODEBUG
// (golang.org/x/sys/cpu's switches, which its kernels' choice of path
// follows), PyTorch through OpenBLAS's core type and ATen's CPU capability.
type cpuClass struct {
	name string
	env  []string // NAME=value for both runs; GODEBUG is added to one already set
	what string   // how the table's heading describes it
	ok   func() bool
}

var cpuClasses = []cpuClass{
	{name: "native", what: "each framework's own choice for this CPU", ok: func() bool { return true }},
	{name: "avx2", env: []string{"GODEBUG=cpu.avx512f=off", "OPENBLAS_CORETYPE=Haswell", "ATEN_CPU_CAPABILITY=avx2"},
		what: "AVX2 and FMA, no AVX-512: dlrun with GODEBUG=cpu.avx512f=off, PyTorch with OPENBLAS_CORETYPE=Haswell ATEN_CPU_CAPABILITY=avx2",
		ok:   func() bool { return cpu.X86.HasAVX2 && cpu.X86.HasFMA }},
}

// parseClasses returns the classes a -class list names, in its order.
func parseClasses(list string) ([]cpuClass, error) {
	var out []cpuClass
	var names []string
	for _, c := range cpuClasses {
		names = append(names, c.name)
	}
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		i := -1
		for j, c := range cpuClasses {
			if c.name == name {
				i = j
			}
		}
		if i < 0 {
			return nil, fmt.Errorf("-class: %q is not a CPU class (%s)", name, strings.Join(names, ", "))
		}
		if !cpuClasses[i].ok() {
			return nil, fmt.Errorf("-class %s: this CPU cannot run it (it lacks the instructions)", name)
		}
		out = append(out, cpuClasses[i])
	}
	return out, nil
}

// setEnv sets the class's variables in this process's environment, which
// both frameworks' runs inherit, and returns what restores it.
func (c cpuClass) setEnv() (restore func()) {
	type saved struct {
		name, value string
		had         bool
	}
	var old []saved
	for _, kv := range c.env {
		name, value, _ := strings.Cut(kv, "=")
		prev, had := os.LookupEnv(name)
		old = append(old, saved{name, prev, had})
		if name == "GODEBUG" && had && prev != "" {
			value = prev + "," + value
		}
		os.Setenv(name, value)
	}
	return func() {
		for _, s := range old {
			if s.had {
				os.Setenv(s.name, s.value)
			} else {
				os.Unsetenv(s.name)
			}
		}
	}
}
