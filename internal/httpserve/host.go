package httpserve

import (
	"net"
	"net/http"
	"strings"
)

// ForeignHost is the message of the 403 answer LocalHostOnly gives.
const ForeignHost = "this server answers only requests addressed to localhost or a loopback address"

// IsLoopback reports whether l listens on a loopback address only
// (127.0.0.1, [::1]), where a web page the user visits may still reach it
// through a name of its own that resolves to 127.0.0.1 (DNS rebinding).
func IsLoopback(l net.Listener) bool {
	a, ok := l.Addr().(*net.TCPAddr)
	return ok && a.IP.IsLoopback()
}

// IsLocalHost reports whether host, a request's Host, names this machine:
// localhost or a loopback address, with or without a port.
func IsLocalHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// LocalHostOnly wraps h so that a request whose Host is not local
// (IsLocalHost) gets 403 with the JSON body {"error": ForeignHost}, so a
// page served from elsewhere cannot read or post to a server on this
// machine by pointing a name of its own at 127.0.0.1.
func LocalHostOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !IsLocalHost(r.Host) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("X-Content-Type-Options", "nosniff")
			w.WriteHeader(http.StatusForbidden)
			w.Write([]byte(`{"error":"` + ForeignHost + `"}` + "\n"))
			return
		}
		h.ServeHTTP(w, r)
	})
}
