package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// untilSignal returns a context cancelled by the first SIGINT or SIGTERM,
// for a server's graceful shutdown; after it the signals take their
// default action again, so that a second one kills at once. stop releases
// the signals early.
func untilSignal(parent context.Context) (ctx context.Context, stop func()) {
	ctx, stop = signal.NotifyContext(parent, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop()
	}()
	return ctx, stop
}

// onStop arranges that a first SIGINT or SIGTERM prints "dlrun: " and
// what message returns on w, and ends the process with status 128 + the
// signal's number (130, 143), as the shell reports a command the signal
// killed; a second signal during that kills at once. release undoes it.
func onStop(w io.Writer, message func() string) (release func()) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case sig := <-ch:
			signal.Stop(ch)
			fmt.Fprintln(w, "dlrun: "+message())
			code := 1
			if s, ok := sig.(syscall.Signal); ok {
				code = 128 + int(s)
			}
			os.Exit(code)
		case <-done:
		}
	}()
	return func() {
		signal.Stop(ch)
		close(done)
	}
}
