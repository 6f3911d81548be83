package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// An agent trains from the command line; eval plays it, play lets a
// person play connect4 against it, refusing bad input with a message.
func TestAgentCommands(t *testing.T) {
	dir := t.TempDir()
	c4 := filepath.Join(dir, "c4")
	if _, err := dlrun(t, "train", "--model", "ppo", "--env", "connect4", "--steps", "2000", "--out", c4); err != nil {
		t.Fatal(err)
	}
	out, err := dlrun(t, "eval", "--run", c4, "--episodes", "4", "--opponent", "random")
	if err != nil || !strings.Contains(out, "score against random") {
		t.Fatalf("eval: %v\n%s", err, out)
	}
	_, err = dlrun(t, "eval", "--run", c4, "--opponent", "alphabeta:0")
	oneLineError(t, "eval with a bad opponent", err, "alphabeta:0")
	_, err = dlrun(t, "eval", "--run", c4, "--data", "xor")
	oneLineError(t, "eval of an agent with --data", err, "--data")

	root := newRoot()
	var buf bytes.Buffer
	root.SetOut(&buf)
	root.SetErr(&buf)
	// 9, x and a line of 100 KB are refused; then column 1 until the
	// person's pieces stack four high or the column fills (refused), then
	// the rest.
	root.SetIn(strings.NewReader("9\nx\n" + strings.Repeat("7", 100<<10) + "\n" + strings.Repeat("1\n", 7) + strings.Repeat("2\n3\n4\n5\n6\n7\n", 7)))
	root.SetArgs([]string{"play", "--run", c4})
	if err := execute(root); err != nil {
		t.Fatalf("play: %v\n%s", err, buf.String())
	}
	text := buf.String()
	for _, want := range []string{`"9" is not a column`, `"x" is not a column`, "a line of more than 1024 bytes is not a column", "1 2 3 4 5 6 7", "the agent (O) plays column"} {
		if !strings.Contains(text, want) {
			t.Errorf("play's output lacks %q:\n%s", want, text)
		}
	}
	if !strings.Contains(text, "you win") && !strings.Contains(text, "the agent wins") && !strings.Contains(text, "a draw") {
		t.Errorf("the game did not end:\n%s", text)
	}

	cp := filepath.Join(dir, "cp")
	if _, err := dlrun(t, "train", "--model", "dqn", "--steps", "1500", "--out", cp); err != nil {
		t.Fatal(err)
	}
	_, err = dlrun(t, "play", "--run", cp)
	oneLineError(t, "play of a cartpole agent", err, "cartpole")
	_, err = dlrun(t, "train", "--model", "dqn", "--epochs", "3")
	oneLineError(t, "an agent with --epochs", err, "epochs 3 does not apply to model dqn: it is an agent")
}

// An agent's run killed mid-training resumes to the same weights and
// metrics as a run straight through.
func TestAgentRunResumesAfterKill(t *testing.T) {
	if testing.Short() {
		t.Skip("builds dlrun")
	}
	bin := buildDlrun(t)
	dir := t.TempDir()
	killed, straight := filepath.Join(dir, "killed"), filepath.Join(dir, "straight")
	args := []string{"train", "--model", "ppo", "--steps", "12000"}
	cmd := exec.Command(bin, append(args, "--out", killed)...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("no checkpoint within a minute")
		}
		if b, err := os.ReadFile(filepath.Join(killed, "metrics.csv")); err == nil && bytes.Count(b, []byte("\n")) >= 3 {
			break
		}
	}
	cmd.Process.Kill()
	cmd.Wait()
	if _, err := os.Stat(filepath.Join(killed, "summary.json")); err == nil {
		t.Skip("the run finished before it was killed")
	}
	if out, err := exec.Command(bin, "train", "--resume", killed).CombinedOutput(); err != nil || !strings.Contains(string(out), "resuming after") {
		t.Fatalf("resume: %v\n%s", err, out)
	}
	if out, err := exec.Command(bin, append(args, "--out", straight)...).CombinedOutput(); err != nil {
		t.Fatalf("straight: %v\n%s", err, out)
	}
	read := func(dir, name string) []byte {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if !bytes.Equal(read(killed, "model.safetensors"), read(straight, "model.safetensors")) {
		t.Error("resumed weights differ from a run straight through")
	}
	cut := func(b []byte) string { // without the seconds column
		var out []string
		for _, l := range strings.Split(string(b), "\n") {
			if i := strings.LastIndexByte(l, ','); i >= 0 {
				l = l[:i]
			}
			out = append(out, l)
		}
		return strings.Join(out, "\n")
	}
	if cut(read(killed, "metrics.csv")) != cut(read(straight, "metrics.csv")) {
		t.Errorf("resumed metrics differ:\n%s\n%s", read(killed, "metrics.csv"), read(straight, "metrics.csv"))
	}
}
