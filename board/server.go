package board

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/dlrun/dlrun/internal/httpserve"
)

// DefaultScanEvery is the default of Options.ScanEvery.
const DefaultScanEvery = time.Second

// Errors of New.
var (
	// ErrNoFolder is wrapped by New's error for a directory that does
	// not exist.
	ErrNoFolder = errors.New("no such folder")
	// ErrNotFolder is wrapped by New's error for a path that is not a
	// folder (a file).
	ErrNotFolder = errors.New("not a folder")
)

// Options tune a Server.
type Options struct {
	// Log receives the server's own errors (nil: they are dropped).
	Log io.Writer
	// ScanEvery is how old the server's view of the directory may be
	// when a request comes before it looks again (0: DefaultScanEvery).
	// Every page polls every 2 s; however many poll, the directory is
	// read at most once per ScanEvery, and then only the files that
	// changed.
	ScanEvery time.Duration
	// Check, if set, checks a run folder for its details (GET /api/run):
	// fsys is the folder (under the board's os.Root, so nothing outside
	// the directory is read), dir its ID, and an error is shown with the
	// run as its "check". dlrun board sets run.CheckFS, the one
	// validation that every command reading a run folder applies. Nil:
	// runs are not checked.
	Check func(fsys fs.FS, dir string) error
}

// Server serves the board over a directory of run folders. Its methods
// may be called concurrently.
type Server struct {
	root *os.Root
	opts Options
	mux  *http.ServeMux

	mu      sync.Mutex
	scanner *scanner
	snap    *snapshot
	scanned time.Time
	closed  bool
}

var _ http.Handler = (*Server)(nil)

// New returns a Server over the run folders under dir, which it reads
// through an os.Root: nothing outside dir can be read, whatever links dir
// holds. It reads dir once before returning.
func New(dir string, o Options) (*Server, error) {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("runs folder %s: %w", dir, ErrNoFolder)
	case err != nil:
		return nil, fmt.Errorf("runs folder %s: %w", dir, pathErr(err))
	case !fi.IsDir():
		return nil, fmt.Errorf("runs folder %s: %w", dir, ErrNotFolder)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("runs folder %s: %w", dir, pathErr(err))
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	if o.ScanEvery <= 0 {
		o.ScanEvery = DefaultScanEvery
	}
	s := &Server{root: root, opts: o, scanner: newScanner(root)}
	s.routes()
	s.current()
	return s, nil
}

// Runs returns the table's rows as the server sees the directory now
// (sorted by ID).
func (s *Server) Runs() []Run {
	return append([]Run(nil), s.current().runs...)
}

// current returns the latest view of the directory, reading it again if
// it is older than ScanEvery.
func (s *Server) current() *snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.snap == nil || !s.closed && time.Since(s.scanned) >= s.opts.ScanEvery {
		s.snap = s.scanner.scan()
		s.scanned = time.Now()
	}
	return s.snap
}

// Close releases the directory. Requests after Close get the last view
// of it.
func (s *Server) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	return s.root.Close()
}

// Serve answers requests on l until ctx is done, then stops accepting
// connections, lets the requests in flight finish (up to 5 s) and
// returns nil. On a loopback listener (127.0.0.1, [::1]) it answers only
// requests addressed to a local host name (httpserve.LocalHostOnly), so a
// web page elsewhere cannot read the runs by pointing a name of its own
// at 127.0.0.1 (DNS rebinding).
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	hs := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		WriteTimeout:      time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          log.New(s.opts.Log, "board: ", 0),
	}
	return httpserve.Serve(ctx, hs, l, 5*time.Second, nil)
}

// ServeHTTP answers GET and HEAD requests for the page, its files and
// its API (api.go). A path holding a ".." element, a backslash or a NUL
// is refused with 400 before it is routed.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'")
	switch {
	case r.Method != http.MethodGet && r.Method != http.MethodHead:
		h.Set("Allow", "GET, HEAD")
		apiError(w, http.StatusMethodNotAllowed, "the board is read-only: GET and HEAD only")
	case badPath(r.URL.Path):
		apiError(w, http.StatusBadRequest, "bad path")
	default:
		s.mux.ServeHTTP(w, r)
	}
}

// badPath reports whether p, a request's path, has a ".." element, a
// backslash or a NUL.
func badPath(p string) bool {
	if strings.ContainsAny(p, "\\\x00") {
		return true
	}
	for _, e := range strings.Split(p, "/") {
		if e == ".." {
			return true
		}
	}
	return false
}
