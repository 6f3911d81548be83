package serve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dlrun/dlrun/internal/httpserve"

	"github.com/dlrun/dlrun/internal/version"
)

// Server serves the models of run folders. Its methods are safe for
// concurrent use.
type Server struct {
	opts     Options
	models   map[string]*model
	names    []string // sorted
	metrics  *metrics
	mux      *http.ServeMux
	stopping atomic.Bool   // set by Serve's shutdown and Close: not ready
	decodes  chan struct{} // a slot per image decoded at once (Options.MaxDecodes)
	explains chan struct{} // a slot per request explained at once (Options.MaxExplains)
	close    sync.Once
}

// New loads the run of each folder of dirs (the last epoch's weights, or
// with o.Best the best epoch's) and returns a Server for them, each
// served under its folder's base name, a rating model with the ratings it
// was trained on (run.NewRecommender). A folder that does not load, or two
// folders of one name, are an error naming them. Close the Server when
// done.
func New(dirs []string, o Options) (*Server, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	if len(dirs) == 0 {
		return nil, ErrNoRuns
	}
	folders := map[string]string{} // name -> folder
	var names []string
	for _, dir := range dirs {
		name, err := modelName(dir)
		if err != nil {
			return nil, err
		}
		if prev, ok := folders[name]; ok {
			return nil, fmt.Errorf("run folders %s and %s are both named %s: each model is served under its folder's name, so rename one", prev, dir, name)
		}
		folders[name] = dir
		names = append(names, name)
	}
	s := &Server{opts: o, models: map[string]*model{}, metrics: newMetrics(), mux: http.NewServeMux(), decodes: make(chan struct{}, o.MaxDecodes), explains: make(chan struct{}, o.MaxExplains)}
	for _, name := range names {
		dir := folders[name]
		m, err := loadModel(dir, name, o.Best)
		if err != nil {
			s.Close()
			if !strings.Contains(err.Error(), dir) {
				err = fmt.Errorf("run folder %s: %w", dir, err)
			}
			return nil, err
		}
		m.b.wait = o.BatchWait
		m.b.observe = func(rows, requests int) { s.metrics.batch(name, rows, requests) }
		m.b.start()
		s.models[name] = m
	}
	slices.Sort(names)
	s.names = names
	s.routes()
	return s, nil
}

// Models returns the metadata of the models served, by name.
func (s *Server) Models() []ModelMetadata {
	out := make([]ModelMetadata, len(s.names))
	for i, name := range s.names {
		out[i] = s.models[name].metadata()
	}
	return out
}

// Handler returns the Server's HTTP handler, for a server of the
// caller's; Serve runs one with timeouts and a graceful shutdown.
func (s *Server) Handler() http.Handler { return s.mux }

// Serve answers requests on l until ctx ends, then shuts down gracefully.
// On a loopback address it answers only requests addressed to localhost
// or a loopback address (httpserve.LocalHostOnly: 403 otherwise), so a web
// page the user visits cannot post to it through a name of its own.
// When ctx ends it stops accepting connections, lets the requests in flight finish (for
// up to Options.Timeout and 5 seconds more, after which their connections
// are closed) and returns nil, or the error that stopped it. The models
// stay loaded until Close.
func (s *Server) Serve(ctx context.Context, l net.Listener) error {
	hs := &http.Server{
		Handler:           s.mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       s.opts.Timeout,
		WriteTimeout:      s.opts.Timeout + shutdownSlack,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          log.New(s.opts.Log, "serve: ", 0),
	}
	return httpserve.Serve(ctx, hs, l, s.opts.Timeout+shutdownSlack, func() {
		s.stopping.Store(true)
		fmt.Fprintln(s.opts.Log, "serve: shutting down: finishing the requests in flight")
	})
}

// Close stops the models' batchers, once they have answered the requests
// they took, and releases the models. Requests after Close get 503.
func (s *Server) Close() error {
	s.close.Do(func() {
		s.stopping.Store(true)
		for _, m := range s.models {
			m.b.stop()
			m.run.Close()
		}
	})
	return nil
}

// logf writes a line to the log.
func (s *Server) logf(format string, args ...any) {
	fmt.Fprintf(s.opts.Log, "serve: %s\n", oneLine(fmt.Sprintf(format, args...)))
}

// endpoint is one of the Server's endpoints: its name (the metrics'
// endpoint label), the method it takes, whether its path names a model,
// and its handler, which returns the error to answer with, if any.
type endpoint struct {
	name   string
	method string // "" for any
	model  bool
	serve  func(w http.ResponseWriter, r *http.Request, m *model) error
}

// The endpoint names.
const (
	epLive           = "health_live"
	epReady          = "health_ready"
	epServerMetadata = "server_metadata"
	epModelMetadata  = "model_metadata"
	epModelReady     = "model_ready"
	epInfer          = "infer"
	epPredictImage   = "predict_image"
	epRecommend      = "recommend"
	epExplain        = "explain"
	epCompose        = "compose"
	epGenerate       = "generate"
	epMetrics        = "metrics"
	epUnknown        = "unknown"
)

func (s *Server) routes() {
	get, post := http.MethodGet, http.MethodPost
	s.handle("/v2/health/live", endpoint{epLive, get, false, s.live})
	s.handle("/v2/health/ready", endpoint{epReady, get, false, s.ready})
	s.handle("/v2", endpoint{epServerMetadata, get, false, s.serverMetadata})
	for _, base := range []string{"/v2/models/{name}", "/v2/models/{name}/versions/{version}"} {
		s.handle(base, endpoint{epModelMetadata, get, true, s.modelMetadata})
		s.handle(base+"/ready", endpoint{epModelReady, get, true, s.modelReady})
		s.handle(base+"/infer", endpoint{epInfer, post, true, s.infer})
	}
	s.handle("/v2/models/{name}/predict-image", endpoint{epPredictImage, post, true, s.predictImage})
	s.handle("/v2/models/{name}/recommend", endpoint{epRecommend, get, true, s.recommend})
	s.handle("/v2/models/{name}/explain", endpoint{epExplain, post, true, s.explain})
	s.handle("/v2/models/{name}/compose", endpoint{epCompose, post, true, s.compose})
	s.handle("/v2/models/{name}/generate", endpoint{epGenerate, post, true, s.generate})
	metrics := s.metrics.handler()
	s.handle("/metrics", endpoint{epMetrics, get, false, func(w http.ResponseWriter, r *http.Request, _ *model) error {
		metrics.ServeHTTP(w, r)
		return nil
	}})
	s.handle("/", endpoint{epUnknown, "", false, func(_ http.ResponseWriter, r *http.Request, _ *model) error {
		return errorf(http.StatusNotFound, "unknown path %q (the endpoints are under /v2; see docs/serving.md)", truncate(r.URL.Path))
	}})
}

// handle registers endpoint e at pattern, wrapped: the method checked
// (405), the model looked up (404), the request given Options.Timeout,
// errors answered as JSON, panics recovered into 500, and the request
// counted and timed.
func (s *Server) handle(pattern string, e endpoint) {
	inFlight := s.metrics.inFlight.WithLabelValues(e.name)
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &recorder{ResponseWriter: w}
		label := ""
		inFlight.Inc()
		defer func() {
			inFlight.Dec()
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.logf("%s %s: panic: %v", r.Method, truncate(r.URL.Path), p)
				if !rec.wrote {
					writeError(rec, errorf(http.StatusInternalServerError, "internal error: %v", p))
				}
			}
			s.metrics.request(label, e.name, rec.status(), time.Since(start))
		}()
		if e.method != "" && r.Method != e.method && !(e.method == http.MethodGet && r.Method == http.MethodHead) {
			allow := e.method
			if allow == http.MethodGet {
				allow += ", " + http.MethodHead
			}
			rec.Header().Set("Allow", allow)
			writeError(rec, errorf(http.StatusMethodNotAllowed, "method %s not allowed: %s takes %s", truncate(r.Method), r.Pattern, e.method))
			return
		}
		var m *model
		if e.model {
			name := r.PathValue("name")
			if m = s.models[name]; m == nil {
				writeError(rec, errorf(http.StatusNotFound, "unknown model %q (serving %s)", truncate(name), listSome(s.names, 5)))
				return
			}
			label = name
			if v := r.PathValue("version"); v != "" && v != Version {
				writeError(rec, errorf(http.StatusNotFound, "model %s has no version %q: it has version %s", name, truncate(v), Version))
				return
			}
		}
		ctx, cancel := context.WithTimeout(r.Context(), s.opts.Timeout)
		defer cancel()
		if err := e.serve(rec, r.WithContext(ctx), m); err != nil {
			err = s.answerFor(err, m)
			if e, ok := err.(*httpError); !ok || e.code >= 500 {
				s.logf("%s %s: %v", r.Method, truncate(r.URL.Path), err)
			}
			writeError(rec, err)
		}
	})
}

// answerFor returns the error to answer with for err, an error of model
// m's handler: a timeout or a server shutting down is 503.
func (s *Server) answerFor(err error, m *model) error {
	if _, ok := err.(*httpError); ok {
		return err
	}
	name := "the server"
	if m != nil {
		name = "model " + m.name
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return errorf(http.StatusServiceUnavailable, "%s: no answer within %v, the server's request timeout", name, s.opts.Timeout)
	case errors.Is(err, context.Canceled):
		return errorf(http.StatusServiceUnavailable, "%s: the request was cancelled", name)
	case errors.Is(err, ErrStopped):
		return errorf(http.StatusServiceUnavailable, "%v", err)
	}
	return errorf(http.StatusInternalServerError, "%s: %v", name, err)
}

// readBody reads the request's body, of at most Options.MaxBody bytes.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	limit := s.opts.MaxBody
	if r.ContentLength > limit {
		return nil, errorf(http.StatusRequestEntityTooLarge, "request body of %d bytes: more than the %d the server takes (--max-body)", r.ContentLength, limit)
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return nil, errorf(http.StatusRequestEntityTooLarge, "request body: more than the %d bytes the server takes (--max-body)", limit)
	case err != nil:
		return nil, badRequest("reading the request body: %v", err)
	}
	return b, nil
}

func (s *Server) live(w http.ResponseWriter, _ *http.Request, _ *model) error {
	writeJSON(w, http.StatusOK, map[string]bool{"live": true})
	return nil
}

func (s *Server) ready(w http.ResponseWriter, _ *http.Request, _ *model) error {
	if s.stopping.Load() {
		writeJSON(w, http.StatusServiceUnavailable, map[string]bool{"ready": false})
		return nil
	}
	writeJSON(w, http.StatusOK, map[string]bool{"ready": true})
	return nil
}

func (s *Server) serverMetadata(w http.ResponseWriter, _ *http.Request, _ *model) error {
	writeJSON(w, http.StatusOK, ServerMetadata{Name: "dlrun", Version: version.Version, Extensions: []string{"classification", "generate"}})
	return nil
}

func (s *Server) modelMetadata(w http.ResponseWriter, _ *http.Request, m *model) error {
	writeJSON(w, http.StatusOK, m.metadata())
	return nil
}

func (s *Server) modelReady(w http.ResponseWriter, _ *http.Request, m *model) error {
	if s.stopping.Load() {
		writeJSON(w, http.StatusServiceUnavailable, ModelReady{Name: m.name, Ready: false})
		return nil
	}
	writeJSON(w, http.StatusOK, ModelReady{Name: m.name, Ready: true})
	return nil
}

// recorder records the status code of an answer.
type recorder struct {
	http.ResponseWriter
	code  int
	wrote bool
}

func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.code, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if !r.wrote {
		r.code, r.wrote = http.StatusOK, true
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (r *recorder) status() int {
	if !r.wrote {
		return http.StatusOK
	}
	return r.code
}

// listSome lists the first max of names, separated by commas, and says
// how many more there are.
func listSome(names []string, max int) string {
	if len(names) <= max {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:max], ", "), len(names)-max)
}
