package main

import (
	"context"
	"fmt"

	"github.com/dlrun/dlrun/music"
	"github.com/dlrun/dlrun/run"
	"github.com/pkg/errors"
	"github.com/spf13/cobra"
)

// statsSeeds is how many pieces --stats composes, from --seed on.
const statsSeeds = 20

func newComposeCmd() *cobra.Command {
	var dir, out, prime, wav string
	var best, stats bool
	o := run.ComposeOptions{}
	cmd := &cobra.Command{
		Use:   "compose",
		Short: "Compose music with a trained music model",
		Long: `Load a music model (music-lstm-joint, music-lstm, music-transformer) from its
run folder and compose: the model reads --prime (a Standard MIDI File; without
one, the first step of a piece of the run's training data), then draws --steps
steps (quarter notes, or the run's --grid) one at a time, each key on with the
probability the model gives it (a joint model's keys drawn from the lowest up,
each given the keys drawn below it), its logit divided by --temperature (1 by
default: the model's own distribution). -o writes the piece as a
Standard MIDI File (type 1, 480 ticks per quarter, tempo and time signature
set, a note held across steps written as one note); --wav renders it with
FluidSynth and Debian's General MIDI soundfont (apt-get install fluidsynth
fluid-soundfont-gm). The same --seed composes the same piece.

--stats composes 20 pieces (seeds --seed to --seed+19) of --steps steps and
prints how much they sound like the chorales: the share of steps where 3 or 4
notes sound (Bach: 99.8%), and the share of notes in each piece's
best-fitting major, natural-minor or harmonic-minor scale (Bach: 94%).`,
		Example: `  dlrun train --model music-lstm-joint --out runs/bach
  dlrun compose --run runs/bach -o chorale.mid --steps 64 --seed 3
  dlrun compose --run runs/bach -o chorale.mid --wav chorale.wav
  dlrun compose --run runs/bach --prime opening.mid --temperature 0.8 -o more.mid
  dlrun compose --run runs/bach --stats`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dir == "" {
				return errors.New("--run: name the run folder of a trained music model")
			}
			if out == "" && wav == "" && !stats {
				return errors.New("-o: name the MIDI file to write (or --wav, or --stats)")
			}
			for _, f := range []struct{ name, path string }{{"out", out}, {"wav", wav}} {
				if f.path != "" {
					if err := checkOut(f.name, f.path); err != nil {
						return err
					}
				}
			}
			if err := o.Check(); err != nil {
				return err
			}
			r, err := run.Open(dir, best)
			if err != nil {
				return atFlag("run", err)
			}
			defer r.Close()
			if prime != "" {
				grid, err := r.Grid()
				if err != nil {
					return atFlag("run", err)
				}
				song, err := music.ReadFile(prime)
				if err != nil {
					return atFlag("prime", err)
				}
				roll, _, err := song.Roll(grid)
				if err != nil {
					return atFlag("prime", err)
				}
				o.Prime = roll
				if err := o.Check(); err != nil {
					return err
				}
			}
			if stats {
				var pieces []*music.Roll
				for i := 0; i < statsSeeds; i++ {
					s := o
					s.Seed = o.Seed + uint64(i)
					p, err := r.Compose(s)
					if err != nil {
						return atFlag("run", err)
					}
					// The composed steps alone, not the prime.
					p.Steps = p.Steps[len(p.Steps)-o.Steps:]
					pieces = append(pieces, p)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "seeds %d to %d, %d steps each, temperature %g: %v\n", o.Seed, o.Seed+statsSeeds-1, o.Steps, o.Temperature, music.Measure(pieces))
			}
			if out == "" && wav == "" {
				return nil
			}
			piece, err := r.Compose(o)
			if err != nil {
				return atFlag("run", err)
			}
			wo := music.WriteOptions{Name: "dlrun compose"}
			if out != "" {
				if err := music.WriteFile(out, piece, wo); err != nil {
					return outError("out", out, err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "wrote %s: %d steps (%.0f s)\n", out, len(piece.Steps), piece.Seconds())
			}
			if wav != "" {
				if err := music.RenderWAV(context.Background(), piece, wav, music.WAVOptions{WriteOptions: wo}); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "wrote %s\n", wav)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&dir, "run", "", "run folder of a trained music model")
	f.BoolVar(&best, "best", false, "use the best epoch's weights instead of the last")
	f.StringVarP(&out, "out", "o", "", "the Standard MIDI File to write")
	f.StringVar(&wav, "wav", "", "also render the piece to this WAV file with FluidSynth")
	f.StringVar(&prime, "prime", "", "a Standard MIDI File the model reads before composing (default: a training piece's first step)")
	f.IntVar(&o.Steps, "steps", 64, "steps to compose, on the run's grid (quarter notes for the JSB Chorales)")
	f.Float64Var(&o.Temperature, "temperature", 1, "sampling temperature: each key's logit is divided by it (1: the model's distribution; 0: each key on where its probability, given the keys below it for a joint model, is at least 0.5)")
	f.Uint64Var(&o.Seed, "seed", 1, "seed for sampling")
	f.BoolVar(&stats, "stats", false, "print the statistics of 20 composed pieces (seeds --seed on)")
	return cmd
}
