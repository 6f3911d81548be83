package serve

import (
	"context"
	"testing"
	"time"
)

// HoldModel occupies the batcher of model name until the returned release
// is called, so that the requests sent meanwhile queue for it, and waits
// until n requests have reached its queue (all n are in predict):
// the tests see batching without depending on timing.
func HoldModel(t *testing.T, s *Server, name string, n int, send func()) (release func()) {
	t.Helper()
	b := s.models[name].b
	hold, started := make(chan struct{}), make(chan struct{})
	go b.do(context.Background(), func() error {
		close(started)
		<-hold
		return nil
	})
	<-started
	send()
	for deadline := time.Now().Add(time.Minute); b.waiting.Load() < int64(n); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			close(hold)
			t.Fatalf("%d requests queued for %s after a minute, want %d", b.waiting.Load(), name, n)
		}
	}
	return func() { close(hold) }
}

// HoldDecodes takes every decoding slot of s until the returned release
// is called, as images being decoded would.
func HoldDecodes(s *Server) (release func()) {
	for range cap(s.decodes) {
		s.decodes <- struct{}{}
	}
	return func() {
		for range cap(s.decodes) {
			<-s.decodes
		}
	}
}

// HoldExplains takes every explaining slot of s until the returned
// release is called, as requests being explained would.
func HoldExplains(s *Server) (release func()) {
	for range cap(s.explains) {
		s.explains <- struct{}{}
	}
	return func() {
		for range cap(s.explains) {
			<-s.explains
		}
	}
}
