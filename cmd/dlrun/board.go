package main

import (
	"fmt"
	"net"

	"github.com/dlrun/dlrun/board"
	"github.com/dlrun/dlrun/run"
	"github.com/spf13/cobra"
)

func newBoardCmd() *cobra.Command {
	var dir, addr string
	cmd := &cobra.Command{
		Use:   "board [--runs DIR] [--addr 127.0.0.1:6006]",
		Short: "Show every run under a folder side by side in the browser, live",
		Long: `Serve a web page over every run folder under --runs (searched recursively,
experiments' seed folders included): a table of the runs (model, dataset, seed,
epochs done and planned, status, final and best test metric, samples/s, wall
time), sortable and filterable, and the curves of the runs ticked in it
overlaid (train and test loss, the task's metric, the learning rate; an agent's
return), by epoch or by wall time. A run's page shows its config.json and
summary.json. The page polls every 2 s: a run still training appears, and its
curves grow, without a reload. A malformed run folder is listed with the reason.

The board only reads: it writes, creates and locks nothing under --runs, serves
nothing outside it, and listens on 127.0.0.1 unless --addr says otherwise. The
page and its charting library are in the binary: nothing is fetched from the
network. SIGTERM or SIGINT stops it. See docs/board.md.`,
		Example: `  dlrun board                              # runs/, at http://127.0.0.1:6006
  dlrun board --runs runs/reproduce --addr 127.0.0.1:8000`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if dir == "" {
				return fmt.Errorf("--runs: name the folder that holds the run folders")
			}
			s, err := board.New(dir, board.Options{Log: cmd.ErrOrStderr(), Check: run.CheckFS})
			if err != nil {
				return atFlag("runs", err)
			}
			defer s.Close()
			l, err := net.Listen("tcp", addr)
			if err != nil {
				return atFlag("addr", err)
			}
			w := cmd.ErrOrStderr()
			fmt.Fprintf(w, "board over %s (%s) at http://%s/\n", dir, count(len(s.Runs()), "run"), l.Addr())
			if a, ok := l.Addr().(*net.TCPAddr); ok && !a.IP.IsLoopback() {
				fmt.Fprintf(w, "board: listening on %s: anyone who can reach this machine can read the runs\n", l.Addr())
			}
			ctx, stop := untilSignal(cmd.Context())
			defer stop()
			return s.Serve(ctx, l)
		},
	}
	f := cmd.Flags()
	f.StringVar(&dir, "runs", "runs", "folder whose run folders the board shows, searched recursively")
	f.StringVar(&addr, "addr", "127.0.0.1:6006", "host:port to listen on (127.0.0.1: this machine only; :6006 for every interface)")
	return cmd
}
