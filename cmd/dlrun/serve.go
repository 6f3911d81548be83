package main

import (
	"fmt"
	"net"

	"github.com/dlrun/dlrun/explain"
	"github.com/dlrun/dlrun/serve"
	"github.com/pkg/errors"
	"github.com/spf13/cobra"
)

func newServeCmd() *cobra.Command {
	var dirs []string
	var addr string
	var o serve.Options
	cmd := &cobra.Command{
		Use:   "serve --run DIR [--run DIR...]",
		Short: "Serve trained models over HTTP with the Open Inference Protocol (KServe v2)",
		Long: `Open the run of each folder (any kind: a classifier, a recommender, a language
model, an agent as its acting network) and serve it under the folder's name
with the Open Inference Protocol (KServe's v2, as Triton speaks it) over
HTTP/JSON:

  GET  /v2/health/live, /v2/health/ready, /v2
  GET  /v2/models/NAME, /v2/models/NAME/ready
  POST /v2/models/NAME/infer           tensors in, tensors out (application/json)
  POST /v2/models/NAME/predict-image   a PNG, JPEG, GIF or WebP body (image/png,
                                       image/jpeg, image/gif, image/webp; image
                                       classifiers)
  GET  /v2/models/NAME/recommend?user=ID&top=N   (rating models)
  POST /v2/models/NAME/explain         attributions per row of an input tensor
                                       (classifiers, language and rating models)
  GET  /metrics                        Prometheus metrics

Concurrent requests to a model are run together, up to its batch size, each
waiting at most --batch-wait for others; each answer is what the model gives
the request alone. Every error is a JSON {"error": "..."} with its status.
On a loopback address only requests to localhost or a loopback address are
answered (403 otherwise); at most one image per core is decoded at once
(503 with Retry-After beyond).
SIGTERM or SIGINT stops accepting connections, lets the requests in flight
finish and exits with status 0. See docs/serving.md.`,
		Example: `  dlrun serve --run runs/cnn
  dlrun serve --run runs/cnn --run runs/mf --addr 127.0.0.1:9000
  curl -s localhost:8080/v2/models/cnn/predict-image -H 'Content-Type: image/png' --data-binary @shirt.png
  curl -s localhost:8080/v2/models/austen/generate -H 'Content-Type: application/json' -d '{"text_input": "Elizabeth", "max_tokens": 200}'`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch {
			case len(dirs) == 0:
				return errors.New("--run: name the run folder of a trained model (repeat --run to serve several)")
			case o.BatchWait < 0:
				return errors.Errorf("--batch-wait %v: must not be negative", o.BatchWait)
			case o.Timeout <= 0:
				return errors.Errorf("--timeout %v: must be positive", o.Timeout)
			case o.MaxBody < 1:
				return errors.Errorf("--max-body %d: must be positive", o.MaxBody)
			case o.MaxImageBytes < 1:
				return errors.Errorf("--max-image-bytes %d: must be positive", o.MaxImageBytes)
			case o.MaxExplainRows < 1:
				return errors.Errorf("--max-explain-rows %d: must be positive", o.MaxExplainRows)
			case o.MaxExplainSteps < 1 || o.MaxExplainSteps > explain.MaxSteps:
				return errors.Errorf("--max-explain-steps %d: must be from 1 to %d", o.MaxExplainSteps, explain.MaxSteps)
			case o.MaxTokens < 1:
				return errors.Errorf("--max-tokens %d: must be positive", o.MaxTokens)
			}
			o.Log = cmd.ErrOrStderr()
			s, err := serve.New(dirs, o)
			if err != nil {
				return atFlag("run", err)
			}
			defer s.Close()
			l, err := net.Listen("tcp", addr)
			if err != nil {
				return atFlag("addr", err)
			}
			for _, m := range s.Models() {
				fmt.Fprintf(cmd.ErrOrStderr(), "serving %s (%s, input %v) at http://%s\n", m.Name, m.Task, m.Inputs[0].Shape[1:], l.Addr())
			}
			ctx, stop := untilSignal(cmd.Context())
			defer stop()
			return s.Serve(ctx, l)
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&dirs, "run", nil, "run folder of a trained model, served under the folder's name (repeat for several)")
	f.StringVar(&addr, "addr", "127.0.0.1:8080", "host:port to listen on (127.0.0.1: this machine only; :8080 for every interface)")
	f.BoolVar(&o.Best, "best", false, "serve the best epoch's weights instead of the last")
	f.DurationVar(&o.BatchWait, "batch-wait", serve.DefaultBatchWait, "longest a request waits for others to share its batch (0: no waiting)")
	f.DurationVar(&o.Timeout, "timeout", serve.DefaultTimeout, "longest a request may take; one still waiting for its model gets 503")
	f.Int64Var(&o.MaxBody, "max-body", serve.DefaultMaxBody, "largest request body in bytes; a larger one gets 413")
	f.Int64Var(&o.MaxImageBytes, "max-image-bytes", serve.DefaultMaxImageBytes, "most memory, in bytes, that decoding one predict-image body may take (width x height x channels x bytes per sample, from its header); a larger image gets 413 before it is decoded")
	f.IntVar(&o.MaxExplainRows, "max-explain-rows", serve.DefaultMaxExplainRows, "most rows one explain request may hold; more get 413")
	f.IntVar(&o.MaxExplainSteps, "max-explain-steps", serve.DefaultMaxExplainSteps, "most integrated-gradients steps an explain request may ask for; more get 400")
	f.IntVar(&o.MaxTokens, "max-tokens", serve.DefaultMaxTokens, "most tokens one generate request may ask a next-token model to write; more gets 400")
	return cmd
}
