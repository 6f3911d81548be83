package main

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/dlrun/dlrun/env"
	"github.com/dlrun/dlrun/run"
	"github.com/pkg/errors"
	"github.com/spf13/cobra"
)

func newPlayCmd() *cobra.Command {
	var dir string
	var second bool
	cmd := &cobra.Command{
		Use:   "play --run DIR [--second]",
		Short: "Play connect4 against a trained agent in the terminal",
		Long: `Play a game of connect4 against the agent of a run folder (ppo --env
connect4). The board is drawn after every move, columns numbered 1 to 7; type
a column and Enter to drop your piece (X when you move first, O when second).
A full column, a number out of range or anything else is refused with a
message and asked again; an empty line or end of input ends the game.`,
		Example: `  dlrun train --model ppo --env connect4 --out runs/c4
  dlrun play --run runs/c4
  dlrun play --run runs/c4 --second`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dir == "" {
				return errors.New("--run: name the run folder of a connect4 agent")
			}
			r, err := run.Open(dir, false)
			if err != nil {
				return atFlag("run", err)
			}
			defer r.Close()
			switch game := r.Config.Game(); game {
			case "connect4":
			case "":
				return errors.Errorf("--run %s: play %v to a %s run: it takes a connect4 agent", dir, run.ErrDoesNotApply, r.Kind.Name())
			default:
				return errors.Errorf("--run %s: its agent plays %s; play takes a connect4 agent", dir, game)
			}
			return playConnect4(cmd.InOrStdin(), cmd.OutOrStdout(), r.Act, !second)
		},
	}
	f := cmd.Flags()
	f.StringVar(&dir, "run", "", "run folder of a connect4 agent")
	f.BoolVar(&second, "second", false, "let the agent move first")
	return cmd
}

// playConnect4 plays one game between a person (reading columns from in)
// and an agent's greedy policy, drawing the board on out.
func playConnect4(in io.Reader, out io.Writer, agent env.Policy, personFirst bool) error {
	g := env.NewConnect4()
	person := 0
	if !personFirst {
		person = 1
	}
	mark := map[int]string{0: "X", 1: "O"}
	lines := bufio.NewReader(in)
	obs := make([]float32, 2*6*7)
	legal := make([]bool, 7)
	for !g.Over() {
		if g.ToMove() == person {
			fmt.Fprint(out, g.String())
			fmt.Fprintf(out, "your move (%s), column 1-7: ", mark[person])
			text, long, err := readLine(lines, maxMoveLine)
			if err == io.EOF && text == "" && !long {
				fmt.Fprintln(out, "\ngame abandoned")
				return nil
			} else if err != nil && err != io.EOF {
				return err
			}
			if long {
				fmt.Fprintf(out, "a line of more than %d bytes is not a column: type a number from 1 to 7\n", maxMoveLine)
				continue
			}
			text = strings.TrimSpace(text)
			if text == "" {
				fmt.Fprintln(out, "game abandoned")
				return nil
			}
			col, err := strconv.Atoi(text)
			switch {
			case err != nil || col < 1 || col > 7:
				fmt.Fprintf(out, "%q is not a column: type a number from 1 to 7\n", text)
				continue
			case !g.CanPlay(col - 1):
				fmt.Fprintf(out, "column %d is full: choose another\n", col)
				continue
			}
			if err := g.Play(col - 1); err != nil {
				return err
			}
			continue
		}
		g.Observe(obs)
		g.Legal(legal)
		col, err := agent(obs, legal)
		if err != nil {
			return err
		}
		if err := g.Play(col); err != nil {
			return errors.Wrapf(err, "the agent played column %d", col+1)
		}
		fmt.Fprintf(out, "the agent (%s) plays column %d\n", mark[1-person], col+1)
	}
	fmt.Fprint(out, g.String())
	switch g.Winner() {
	case person:
		fmt.Fprintln(out, "you win")
	case 1 - person:
		fmt.Fprintln(out, "the agent wins")
	default:
		fmt.Fprintln(out, "a draw")
	}
	return nil
}

// maxMoveLine is the longest line play reads as a move; a longer one is
// discarded and the move asked for again.
const maxMoveLine = 1 << 10

// readLine reads a line from r, without its end, keeping at most max
// bytes: long reports that the line was longer, and the rest of it was
// read and dropped. err is io.EOF at the end of the input (with the last
// line, if it had no end).
func readLine(r *bufio.Reader, max int) (line string, long bool, err error) {
	var b []byte
	for {
		chunk, err := r.ReadSlice('\n')
		if len(b)+len(chunk) > max+1 {
			long = true
		} else {
			b = append(b, chunk...)
		}
		if err == bufio.ErrBufferFull {
			continue
		}
		if long {
			b = nil
		}
		return strings.TrimRight(string(b), "\r\n"), long, err
	}
}
