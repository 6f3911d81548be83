// Command shotsynth writes the synthetic shot-boundary material that the
// learned shot detector trains and is tested on: clips of shots from
// photographs in Debian's wallpaper packages and ffmpeg's lavfi
// generators, joined by hard cuts, dissolves and fades, with exact labels.
//
//	apt-get install ffmpeg mate-backgrounds plasma-workspace-wallpapers ukui-wallpapers
//	go run ./video/synth/shotsynth -seed 1
//
// writes /var/tmp/dlrun-shots/train and /var/tmp/dlrun-shots/test
// (clip-NNNN.mp4 with clip-NNNN.json beside it) and
// /var/tmp/dlrun-shots/sources.json, which lists every source with its
// split, package and licence; -out names another folder. The same seed
// gives the same labels and the same frames. `dlrun train --model shots`
// reads the default folder (--data names another).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"

	"github.com/dlrun/dlrun/video/synth"
)

func main() {
	var cfg synth.Config
	flag.StringVar(&cfg.Out, "out", synth.DefaultDir, "folder to write the material into")
	flag.Uint64Var(&cfg.Seed, "seed", 1, "seed: the same seed gives the same clips")
	flag.IntVar(&cfg.Train, "train", 0, "training clips (0: 120)")
	flag.IntVar(&cfg.Test, "test", 0, "test clips (0: 40)")
	flag.IntVar(&cfg.Width, "width", 0, "frame width (0: 160)")
	flag.IntVar(&cfg.Height, "height", 0, "frame height (0: 90)")
	flag.Parse()
	if cfg.Out == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: shotsynth [-out DIR] [-seed N] [-train N] [-test N]")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := synth.Generate(ctx, cfg, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "shotsynth:", err)
		os.Exit(1)
	}
}
