// Package board serves a web page over the run folders under a directory
// (`dlrun board`): a table of every run, sortable and filterable, and the
// curves of the runs selected in it, overlaid on shared axes by epoch (an
// agent's environment steps) or by wall time. The page polls the server,
// so a run still training appears, and its curves grow, without a reload.
//
// The board is read-only and local. It reads run folders through an
// os.Root opened on the directory, so no request and no symbolic link can
// make it read outside it; it serves only the runs it found there, named
// by their path relative to the directory; it never creates, writes or
// locks a file (it tells a run that is training by reading the system's
// table of file locks, see running_linux.go); and `dlrun board` binds to
// 127.0.0.1 unless told otherwise. A malformed run folder (a truncated
// row, a cell that is not a number, JSON that does not parse) is listed
// with the reason, and never fails the page.
//
// A Server is made with New over a directory, serves with Serve (or as an
// http.Handler under a server of the caller's) and is released with Close.
// See docs/board.md.
package board
