// Package httpserve runs an http.Server until its context ends, then shuts
// it down gracefully, answering on a loopback address only the requests
// addressed to this machine: what `dlrun serve` and `dlrun board` share.
package httpserve

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// Serve serves hs on l until ctx is done or the server fails. On a
// loopback listener (127.0.0.1, [::1]) it answers only requests whose
// Host is localhost or a loopback address (LocalHostOnly). When ctx ends
// it calls stopping (if not nil), stops accepting connections and lets
// the requests in flight finish for up to grace, after which their
// connections are closed. It returns nil after a clean shutdown, or the
// error that stopped the server or its shutdown.
func Serve(ctx context.Context, hs *http.Server, l net.Listener, grace time.Duration, stopping func()) error {
	if IsLoopback(l) {
		hs.Handler = LocalHostOnly(hs.Handler)
	}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(l) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	if stopping != nil {
		stopping()
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	err := hs.Shutdown(sctx)
	if err != nil {
		hs.Close()
		err = fmt.Errorf("shutting down: %w", err)
	}
	if e := <-served; e != nil && !errors.Is(e, http.ErrServerClosed) && err == nil {
		err = e
	}
	return err
}
