package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
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
	// 9 and x are refused; then column 1 until the person's pieces stack
	// four high or the column fills (refused), then the rest.
	root.SetIn(strings.NewReader("9\nx\n" + strings.Repeat("1\n", 7) + strings.Repeat("2\n3\n4\n5\n6\n7\n", 7)))
	root.SetArgs([]string{"play", "--run", c4})
	if err := execute(root); err != nil {
		t.Fatalf("play: %v\n%s", err, buf.String())
	}
	text := buf.String()
	for _, want := range []string{`"9" is not a column`, `"x" is not a column`, "1 2 3 4 5 6 7", "the agent (O) plays column"} {
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
	oneLineError(t, "an agent with --epochs", err, "epochs does not apply to agent dqn")
}
