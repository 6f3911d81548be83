package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/internal/version"
)

// dlrunSplit runs the command line in-process and returns its stdout and
// its stderr apart, with its error.
func dlrunSplit(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	root := newRoot()
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(args)
	err := execute(root)
	return out.String(), errOut.String(), err
}

// --batch-size is the flag (Keras's and PyTorch's name), --batch its
// alias: both set batch_size, for train and run alike, and help lists
// --batch-size, mentioning the alias.
func TestBatchSizeFlagAndAlias(t *testing.T) {
	for _, flag := range []string{"--batch-size", "--batch"} {
		out := filepath.Join(t.TempDir(), "xor")
		if _, err := dlrun(t, "train", "--model", "xor", "--epochs", "1", flag, "2", "--out", out); err != nil {
			t.Fatalf("%s 2: %v", flag, err)
		}
		wantFields(t, flag+": config.json", readJSON(t, filepath.Join(out, "config.json")), map[string]any{"batch_size": 2})

		exp := filepath.Join(t.TempDir(), "exp")
		if _, err := dlrun(t, "run", filepath.Join("..", "..", "testdata", "cli", "xor-one-epoch.yaml"), flag, "3", "--out", exp); err != nil {
			t.Fatalf("run %s 3: %v", flag, err)
		}
		wantFields(t, "run "+flag+": config.json", readJSON(t, filepath.Join(exp, "seed-1", "config.json")), map[string]any{"batch_size": 3})

		_, err := dlrun(t, "train", flag, "0")
		oneLineError(t, flag+" 0", err, "--batch-size 0: must be positive")
	}
	for _, cmd := range []string{"train", "run"} {
		help, err := dlrun(t, cmd, "--help")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(help, "--batch-size int") || !strings.Contains(help, "alias --batch)") || strings.Contains(help, "--batch int") {
			t.Errorf("%s --help does not list --batch-size with its alias --batch:\n%s", cmd, help)
		}
	}
}

// Errors about flags are one line naming the flag; an unknown flag gets
// the nearest known ones; --version works.
func TestFlagErrorsAndSuggestions(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"train", "--epoch", "3"}, "unknown flag --epoch; did you mean --epochs?"},
		{[]string{"train", "--batchsize", "3"}, "unknown flag --batchsize; did you mean --batch-size?"},
		{[]string{"train", "--batch_size", "3"}, "unknown flag --batch_size; did you mean --batch-size?"},
		{[]string{"train", "--learning-rate", "0.1"}, "unknown flag --learning-rate; did you mean --lr?"},
		{[]string{"train", "--lr-sched", "step"}, "unknown flag --lr-sched; did you mean --lr-schedule?"},
		{[]string{"run", "x.yaml", "--seedz", "1"}, "unknown flag --seedz; did you mean --seed or --seeds?"},
		{[]string{"generate", "--temprature", "1"}, "unknown flag --temprature; did you mean --temperature?"},
		{[]string{"train", "--frobnicate"}, "unknown flag --frobnicate (see 'dlrun train --help')"},
		{[]string{"train", "-x"}, "unknown flag -x (see 'dlrun train --help')"},
		{[]string{"--verison"}, "unknown flag --verison; did you mean --version?"},
		{[]string{"trian"}, `unknown command "trian" for "dlrun"; did you mean train?`},
		{[]string{"train", "--epochs"}, "--epochs: needs a value"},
		{[]string{"train", "--epochs", "two"}, "--epochs two: invalid argument, want an integer"},
		{[]string{"train", "--lr", "fast"}, "--lr fast: invalid argument, want a number"},
		{[]string{"generate", "--run", "x", "--temperature", "NaN"}, "--temperature NaN: must be a finite number, not negative"},
		{[]string{"eval", "runs/x"}, `"runs/x": 'dlrun eval' takes flags only, no arguments`},
		{[]string{"predict", "--run", "x"}, "name at least one image or CSV FILE"},
		{[]string{"run"}, "name at least one experiment CONFIG"},
		{[]string{"eval", "--run", filepath.Join(t.TempDir(), "absent")}, "--run: "},
		{[]string{"train", "--model", "xor", "--lr-schedule", "sometimes"}, `learning-rate schedule (--lr-schedule) "sometimes"`},
		{[]string{"train", "--model", "xor", "--monitor", "acc"}, `unknown metric (--monitor) "acc"`},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			_, err := dlrun(t, c.args...)
			oneLineError(t, strings.Join(c.args, " "), err, c.want)
		})
	}
	for _, args := range [][]string{{"--version"}, {"version"}} {
		out, err := dlrun(t, args...)
		if err != nil || out != "dlrun "+version.Version+"\n" {
			t.Errorf("%v: %q, %v", args, out, err)
		}
	}
}

func TestCount(t *testing.T) {
	for n, want := range map[int]string{0: "0 files", 1: "1 file", 2: "2 files"} {
		if got := count(n, "file"); got != want {
			t.Errorf("count(%d) = %q, want %q", n, got, want)
		}
	}
}
