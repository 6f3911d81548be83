package main

import (
	"context"
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
