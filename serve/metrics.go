package serve

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// The metrics a Server exports at GET /metrics, in Prometheus's text
// format, from a registry of its own, beside the Go runtime's (go_*) and
// the process's (process_*). The model label is a served model's name,
// or empty for a request that names none (or names an unknown one); the
// endpoint label is health_live, health_ready, server_metadata,
// model_metadata, model_ready, infer, predict_image, recommend, compose, metrics
// or unknown (any other path).
const (
	// MetricRequests counts the requests answered, by model, endpoint and
	// HTTP status code.
	MetricRequests = "dlrun_serve_requests_total"
	// MetricDuration is a histogram of the seconds from a request's
	// arrival to its answer, by model and endpoint.
	MetricDuration = "dlrun_serve_request_duration_seconds"
	// MetricInFlight is the number of requests being answered, by
	// endpoint.
	MetricInFlight = "dlrun_serve_requests_in_flight"
	// MetricBatchRows is a histogram of the rows of each forward call
	// (the rows of the requests it answered, padding left out), by model.
	MetricBatchRows = "dlrun_serve_batch_rows"
	// MetricBatchRequests is a histogram of the requests each forward
	// call answered, by model.
	MetricBatchRequests = "dlrun_serve_batch_requests"
)

// metrics are a Server's collectors.
type metrics struct {
	reg       *prometheus.Registry
	requests  *prometheus.CounterVec
	duration  *prometheus.HistogramVec
	inFlight  *prometheus.GaugeVec
	batchRows *prometheus.HistogramVec
	batchReqs *prometheus.HistogramVec
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: MetricRequests,
			Help: "Requests answered, by model, endpoint and HTTP status code.",
		}, []string{"model", "endpoint", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    MetricDuration,
			Help:    "Seconds from a request's arrival to its answer, by model and endpoint.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 17), // 0.5 ms to 33 s
		}, []string{"model", "endpoint"}),
		inFlight: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: MetricInFlight,
			Help: "Requests being answered, by endpoint.",
		}, []string{"endpoint"}),
		batchRows: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    MetricBatchRows,
			Help:    "Rows of each forward call of a model (padding left out), by model.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 11), // 1 to 1024
		}, []string{"model"}),
		batchReqs: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    MetricBatchRequests,
			Help:    "Requests answered by each forward call of a model, by model.",
			Buckets: prometheus.ExponentialBuckets(1, 2, 11),
		}, []string{"model"}),
	}
	m.reg.MustRegister(m.requests, m.duration, m.inFlight, m.batchRows, m.batchReqs,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// handler serves the registry's metrics.
func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// request records a request answered with code after d.
func (m *metrics) request(model, endpoint string, code int, d time.Duration) {
	m.requests.WithLabelValues(model, endpoint, strconv.Itoa(code)).Inc()
	m.duration.WithLabelValues(model, endpoint).Observe(d.Seconds())
}

// batch records a forward call of model.
func (m *metrics) batch(model string, rows, requests int) {
	m.batchRows.WithLabelValues(model).Observe(float64(rows))
	m.batchReqs.WithLabelValues(model).Observe(float64(requests))
}
