package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// readProfile checks that path holds a complete pprof profile: a gzip
// stream (magic 0x1f 0x8b) that decompresses, CRC checked, to a non-empty
// protocol buffer.
func readProfile(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 2 || b[0] != 0x1f || b[1] != 0x8b {
		t.Fatalf("%s: not a gzipped profile (%d bytes, starting %q)", path, len(b), b[:min(len(b), 8)])
	}
	z, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	raw, err := io.ReadAll(z)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if len(raw) == 0 {
		t.Fatalf("%s: empty profile", path)
	}
}

// TestTrainProfiles trains xor with --cpuprofile and --memprofile and
// checks that both profiles are written, that config.json does not record
// them, that --resume accepts them, and that no temporary file is left.
func TestTrainProfiles(t *testing.T) {
	dir := t.TempDir()
	cpu, mem, out := filepath.Join(dir, "cpu.pprof"), filepath.Join(dir, "mem.pprof"), filepath.Join(dir, "run")
	if _, err := dlrun(t, "train", "--model", "xor", "--epochs", "3", "--out", out, "--cpuprofile", cpu, "--memprofile", mem); err != nil {
		t.Fatal(err)
	}
	readProfile(t, cpu)
	readProfile(t, mem)
	cfg, err := os.ReadFile(filepath.Join(out, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(cfg), "profile") {
		t.Errorf("config.json records a profile flag:\n%s", cfg)
	}

	cpu2, mem2 := filepath.Join(dir, "cpu2.pprof"), filepath.Join(dir, "mem2.pprof")
	if _, err := dlrun(t, "train", "--resume", out, "--epochs", "4", "--cpuprofile", cpu2, "--memprofile", mem2); err != nil {
		t.Fatalf("--resume with profiles: %v", err)
	}
	readProfile(t, cpu2)
	readProfile(t, mem2)

	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if got, want := strings.Join(names, " "), "cpu.pprof cpu2.pprof mem.pprof mem2.pprof run"; got != want {
		t.Errorf("folder holds %s, want %s", got, want)
	}
}

// TestTrainProfileUncreatable checks that a profile path that cannot be
// created is a one-line error naming the flag and the path, given before
// a run folder is made, and that it leaves no file behind.
func TestTrainProfileUncreatable(t *testing.T) {
	for _, flag := range []string{"--cpuprofile", "--memprofile"} {
		dir := t.TempDir()
		bad := filepath.Join(dir, "no-such-folder", "prof.pprof")
		out := filepath.Join(dir, "run")
		args := []string{"train", "--model", "xor", "--epochs", "1", "--out", out, flag, bad}
		if flag == "--cpuprofile" {
			// The heap profile, valid, must not be left behind either.
			args = append(args, "--memprofile", filepath.Join(dir, "mem.pprof"))
		}
		_, err := dlrun(t, args...)
		oneLineError(t, flag, err, flag, bad)
		if err != nil && strings.Count(err.Error(), bad) != 1 {
			t.Errorf("%s: error names the path more than once: %v", flag, err)
		}
		ents, _ := os.ReadDir(dir)
		for _, e := range ents {
			t.Errorf("%s: %s left in the folder", flag, e.Name())
		}
	}
}
