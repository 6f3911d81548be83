package board_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dlrun/dlrun/board"
	"github.com/dlrun/dlrun/board/boardtest"
)

// The server's part of a first page load over 200 runs of 100 epochs
// each: reading every run folder (New), the page, the table, and every
// run's curves in requests of at most board.MaxCurveIDs runs each (what
// ticking them all asks for: the page splits its request the same way).
func BenchmarkBoardFirstLoad(b *testing.B) {
	dir := b.TempDir()
	ids, err := boardtest.WriteRuns(dir, 200, 100)
	if err != nil {
		b.Fatal(err)
	}
	targets := []string{"/", "/api/runs"}
	for chunk := range slices.Chunk(ids, board.MaxCurveIDs) {
		targets = append(targets, "/api/curves?id="+strings.Join(chunk, "&id="))
	}
	var bytes int
	for b.Loop() {
		s, err := board.New(dir, board.Options{})
		if err != nil {
			b.Fatal(err)
		}
		bytes = 0
		for _, target := range targets {
			w := get(s, target)
			if w.Code != http.StatusOK {
				b.Fatalf("GET %s: %d", target, w.Code)
			}
			bytes += w.Body.Len()
		}
		s.Close()
	}
	b.ReportMetric(float64(bytes), "bytes/load")
}

// A poll of a page open on 200 runs of 100 epochs each when nothing
// changed: the directory read again (every file stated, none read) and a
// 304.
func BenchmarkBoardPoll(b *testing.B) {
	dir := b.TempDir()
	if _, err := boardtest.WriteRuns(dir, 200, 100); err != nil {
		b.Fatal(err)
	}
	s, err := board.New(dir, board.Options{ScanEvery: time.Nanosecond})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	etag := get(s, "/api/runs").Header().Get("ETag")
	for b.Loop() {
		if w := get(s, "/api/runs", "If-None-Match", etag); w.Code != http.StatusNotModified {
			b.Fatalf("poll: %d", w.Code)
		}
	}
}
