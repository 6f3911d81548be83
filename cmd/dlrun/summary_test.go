package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/datasets"
)

// summary shows every kind's model: a reference network for its bundled
// data, a model file for a text (its vocabulary from the text named with
// --data, refused where its outputs are not that vocabulary, as training
// refuses it), a recommender, an agent for its game, and a trained agent's
// run.
func TestSummaryOfEveryKind(t *testing.T) {
	dir := t.TempDir()
	text := filepath.Join(dir, "text.txt")
	if err := os.WriteFile(text, []byte(strings.Repeat("the cat sat on the mat. ", 20)), 0o644); err != nil {
		t.Fatal(err)
	}
	lm := filepath.Join(dir, "lm.yaml")
	spec := "name: lm\nlayers:\n  - embedding: {vocab: 11, dim: 8}\n  - lstm: {hidden: 16, return_sequences: true, stateful: true}\n  - dense: {units: 11}\n"
	if err := os.WriteFile(lm, []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	agent := filepath.Join(dir, "dqn")
	if _, err := dlrun(t, "train", "--model", "dqn", "--steps", "1000", "--out", agent); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--model", "cnn"}, "cnn, input [1 28 28] per example"},
		{[]string{"--model", lm, "--task", "next-token", "--data", text, "--seq-len", "20"}, "lm, input [20] per example"},
		{[]string{"--model", "mf"}, "mf, input [2] per example"},
		{[]string{"--model", "ppo", "--env", "connect4"}, "policy, input [2 6 7] per example"},
		{[]string{"--model", "dqn"}, "q, input [4] per example"},
		{[]string{"--run", agent}, "q, input [4] per example"},
	} {
		out, err := dlrun(t, append([]string{"summary"}, c.args...)...)
		if err != nil || !strings.HasPrefix(out, c.want) || !strings.Contains(out, "Total params") {
			t.Errorf("summary %s: %v\n%s\nwant it to begin %q", strings.Join(c.args, " "), err, out, c.want)
		}
	}
	_, err := dlrun(t, "summary", "--model", "cnn", "--epochs", "2")
	oneLineError(t, "summary with a training flag", err, "unknown flag --epochs")
	// A model file whose outputs are not the text's vocabulary is refused,
	// as training refuses it.
	lm5 := filepath.Join(dir, "lm5.yaml")
	if err := os.WriteFile(lm5, []byte(strings.Replace(spec, "units: 11", "units: 5", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = dlrun(t, "summary", "--model", lm5, "--task", "next-token", "--data", text, "--seq-len", "20")
	oneLineError(t, "summary of a model of 5 outputs for a vocabulary of 11", err, "maps [20] ids to [20 5], want [20 11] logits")
}

// Help and errors name the same bundled datasets, from one list.
func TestBundledDatasetsOneList(t *testing.T) {
	list := strings.Join(datasets.Bundled(), ", ")
	for _, want := range []string{"pride-and-prejudice", "movielens"} {
		if !strings.Contains(list, want) {
			t.Fatalf("datasets.Bundled() = %s, without %s", list, want)
		}
	}
	for _, cmd := range []string{"train", "run", "summary"} {
		out, err := dlrun(t, cmd, "--help")
		if err != nil || !strings.Contains(strings.Join(strings.Fields(out), " "), "("+list+")") {
			t.Errorf("%s --help lacks the bundled datasets (%s):\n%s", cmd, list, out)
		}
	}
	_, err := dlrun(t, "train", "--model", "cnn", "--data", "no-such-data", "--out", filepath.Join(t.TempDir(), "x"))
	oneLineError(t, "an unknown dataset", err, "("+list+")")
}
