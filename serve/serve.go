// Package serve serves trained runs over HTTP with the Open Inference
// Protocol (KServe's v2 protocol, which Triton and Seldon speak too), in
// JSON: health and metadata, inference on tensors, and dlrun's own
// endpoints for images (predict-image), recommendations (recommend) and
// music (compose) and explanations (explain).
// See docs/serving.md for the endpoints, the names, datatypes and shapes
// of each kind of model's tensors, and the limits.
//
// Each model is owned by one goroutine (a batcher), since a train.Model is
// not safe for concurrent use: the requests that arrive for it within
// Options.BatchWait of each other are run as one Predict call of up to the
// model's batch size, and each gets exactly the rows a Predict call of its
// own would give.
//
// A Server is built from run folders with New, serves with Serve (or its
// Handler under a server of the caller's) and is released with Close.
package serve

import (
	"io"
	"runtime"
	"time"

	"github.com/dlrun/dlrun/explain"
	"github.com/pkg/errors"
)

// Defaults of Options.
const (
	// DefaultMaxBody is the default largest request body: 16 MiB, room
	// for a thousand Fashion-MNIST images written as JSON (8 to 16 KB
	// each), or a large photograph.
	DefaultMaxBody = 16 << 20
	// DefaultTimeout is the default time a request may take: 30 seconds.
	DefaultTimeout = 30 * time.Second
	// DefaultBatchWait is the default time a request waits for others to
	// join its batch: 2 ms. The command's --batch-wait defaults to it; in
	// Options the zero value means no waiting.
	DefaultBatchWait = 2 * time.Millisecond
	// DefaultMaxImageBytes is the default bound on the memory decoding
	// one predict-image body may take: 64 MiB, a 4096×4096 RGBA PNG or a
	// 22-megapixel JPEG; a 16-bit RGBA PNG of 2896×2896.
	DefaultMaxImageBytes = 64 << 20
)

// DecodeWait is how long a predict-image request waits for one of the
// Options.MaxDecodes decoding slots (an explain request for one of the
// Options.MaxExplains slots) before it is answered 503 with
// Retry-After: 1.
const DecodeWait = 100 * time.Millisecond

// shutdownSlack is how long Serve waits for the requests in flight past
// Options.Timeout, the most any of them waits for its model, before it
// closes their connections.
const shutdownSlack = 5 * time.Second

// Version is the version of every model served: each run folder holds one
// model, served as version 1.
const Version = "1"

// Platform is the platform the model metadata names.
const Platform = "dlrun"

// Sentinel errors.
var (
	// ErrStopped is the error of a request to a model whose server was
	// closed.
	ErrStopped = errors.New("serve: the server is shutting down")
	// ErrNoRuns is New's error when it is given no run folder.
	ErrNoRuns = errors.New("serve: no run folder to serve")
)

// Options configure a Server. The zero value serves with the defaults
// above and no batch waiting.
type Options struct {
	// Best serves each run's best epoch's weights (best.safetensors)
	// instead of its last (model.safetensors).
	Best bool
	// BatchWait is the longest a request waits, from its arrival, for
	// others to join its batch; zero runs what has arrived at once (the
	// requests that queued while the model was busy still run together).
	BatchWait time.Duration
	// MaxBody is the largest request body in bytes (default
	// DefaultMaxBody); a larger one is refused with 413.
	MaxBody int64
	// Timeout bounds each request (default DefaultTimeout): one still
	// waiting for its model then gets 503. The server's read and write
	// timeouts follow from it.
	Timeout time.Duration
	// MaxImageBytes bounds the memory decoding one predict-image body may
	// take: width × height × channels × bytes per sample, read from the
	// image's header before it is decoded (datasets.DecodedBytes; default
	// DefaultMaxImageBytes). A larger image gets 413.
	MaxImageBytes int64
	// MaxDecodes bounds the predict-image bodies decoded at once (default
	// runtime.GOMAXPROCS(0): one per core the process may use); a request
	// that finds every slot taken for DecodeWait gets 503 with
	// Retry-After.
	MaxDecodes int
	// MaxExplainRows bounds the rows of one explain request (default
	// DefaultMaxExplainRows); more get 413.
	MaxExplainRows int
	// MaxExplainSteps bounds the steps an explain request may ask
	// integrated gradients for (default DefaultMaxExplainSteps); more get
	// 400.
	MaxExplainSteps int
	// MaxExplains bounds the explain requests explained at once across
	// the server (default 1: an explanation costs up to steps forward and
	// backward passes, so they queue rather than starve inference); a
	// request that finds every slot taken for DecodeWait gets 503 with
	// Retry-After.
	MaxExplains int
	// MaxTokens is the most tokens one generate request may ask for
	// (default DefaultMaxTokens); a request for more gets 400.
	MaxTokens int
	// Log receives a line for each server error (a 5xx answer, a
	// recovered panic) and for shutdown; nil discards them.
	Log io.Writer
}

// withDefaults returns o with the defaults of its zero fields, checking
// the others.
func (o Options) withDefaults() (Options, error) {
	switch {
	case o.BatchWait < 0:
		return o, errors.Errorf("batch wait %v: must not be negative", o.BatchWait)
	case o.MaxBody < 0:
		return o, errors.Errorf("max body %d: must not be negative", o.MaxBody)
	case o.Timeout < 0:
		return o, errors.Errorf("timeout %v: must not be negative", o.Timeout)
	case o.MaxImageBytes < 0:
		return o, errors.Errorf("max image bytes %d: must not be negative", o.MaxImageBytes)
	case o.MaxTokens < 0:
		return o, errors.Errorf("max tokens %d: must not be negative", o.MaxTokens)
	case o.MaxDecodes < 0:
		return o, errors.Errorf("max decodes %d: must not be negative", o.MaxDecodes)
	case o.MaxExplainRows < 0:
		return o, errors.Errorf("max explain rows %d: must not be negative", o.MaxExplainRows)
	case o.MaxExplainSteps < 0 || o.MaxExplainSteps > explain.MaxSteps:
		return o, errors.Errorf("max explain steps %d: must be from 0 to %d", o.MaxExplainSteps, explain.MaxSteps)
	case o.MaxExplains < 0:
		return o, errors.Errorf("max explains %d: must not be negative", o.MaxExplains)
	}
	if o.MaxExplainRows == 0 {
		o.MaxExplainRows = DefaultMaxExplainRows
	}
	if o.MaxExplainSteps == 0 {
		o.MaxExplainSteps = DefaultMaxExplainSteps
	}
	if o.MaxExplains == 0 {
		o.MaxExplains = 1
	}
	if o.MaxImageBytes == 0 {
		o.MaxImageBytes = DefaultMaxImageBytes
	}
	if o.MaxDecodes == 0 {
		o.MaxDecodes = runtime.GOMAXPROCS(0)
	}
	if o.MaxTokens == 0 {
		o.MaxTokens = DefaultMaxTokens
	}
	if o.MaxBody == 0 {
		o.MaxBody = DefaultMaxBody
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	return o, nil
}
