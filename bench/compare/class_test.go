package main

import (
	"os"
	"strings"
	"testing"

	"golang.org/x/sys/cpu"
)

func TestParseClassesKeepsTheListsOrder(t *testing.T) {
	if !cpu.X86.HasAVX2 || !cpu.X86.HasFMA {
		t.Skip("this CPU cannot run the avx2 class")
	}
	got, err := parseClasses("avx2, native")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].name != "avx2" || got[1].name != "native" {
		t.Fatalf("parseClasses(\"avx2, native\") = %v, want avx2 then native", got)
	}
}

func TestParseClassesNamesWhatIsWrong(t *testing.T) {
	for _, list := range []string{"avx512", "", "native,"} {
		_, err := parseClasses(list)
		if err == nil {
			t.Errorf("parseClasses(%q) accepted it", list)
			continue
		}
		if !strings.HasPrefix(err.Error(), "-class") || !strings.Contains(err.Error(), "native, avx2") {
			t.Errorf("parseClasses(%q): %v, want an error naming -class and the classes there are", list, err)
		}
	}
}

func TestSetEnvAddsToGODEBUGAndRestores(t *testing.T) {
	t.Setenv("GODEBUG", "madvdontneed=1")
	t.Setenv("OPENBLAS_CORETYPE", "")
	os.Unsetenv("OPENBLAS_CORETYPE")
	var avx2 cpuClass
	for _, c := range cpuClasses {
		if c.name == "avx2" {
			avx2 = c
		}
	}
	restore := avx2.setEnv()
	if got := os.Getenv("GODEBUG"); got != "madvdontneed=1,cpu.avx512f=off" {
		t.Errorf("GODEBUG = %q, want the one set with cpu.avx512f=off added", got)
	}
	if got := os.Getenv("OPENBLAS_CORETYPE"); got != "Haswell" {
		t.Errorf("OPENBLAS_CORETYPE = %q, want Haswell", got)
	}
	restore()
	if got := os.Getenv("GODEBUG"); got != "madvdontneed=1" {
		t.Errorf("GODEBUG after restore = %q, want madvdontneed=1", got)
	}
	if _, had := os.LookupEnv("OPENBLAS_CORETYPE"); had {
		t.Error("OPENBLAS_CORETYPE still set after restore")
	}
}
