package httpserve

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestIsLocalHost(t *testing.T) {
	for host, want := range map[string]bool{
		"localhost": true, "LOCALHOST:8080": true, "127.0.0.1": true, "127.0.0.1:80": true, "127.5.6.7": true,
		"[::1]": true, "[::1]:8080": true, "::1": true,
		"": false, "evil.example": false, "localhost.evil.example": false, "evil.example:8080": false,
		"10.0.0.1": false, "[::2]:80": false, "0.0.0.0": false,
	} {
		if got := IsLocalHost(host); got != want {
			t.Errorf("IsLocalHost(%q) = %v", host, got)
		}
	}
}

func TestLocalHostOnly(t *testing.T) {
	h := LocalHostOnly(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok")) }))
	for host, want := range map[string]int{"localhost:1": 200, "127.0.0.1": 200, "evil.example": 403} {
		w := httptest.NewRecorder()
		r := httptest.NewRequest("POST", "/v2/models/m/infer", strings.NewReader("{}"))
		r.Host = host
		h.ServeHTTP(w, r)
		if w.Code != want {
			t.Errorf("Host %q: %d, want %d", host, w.Code, want)
		}
		if want == 403 && (w.Header().Get("Content-Type") != "application/json" || !strings.Contains(w.Body.String(), `"error":"this server answers only`)) {
			t.Errorf("Host %q: answer %q %q", host, w.Header().Get("Content-Type"), w.Body.String())
		}
	}
}

func TestIsLoopback(t *testing.T) {
	for addr, want := range map[string]bool{"127.0.0.1:0": true, "[::1]:0": true, ":0": false} {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			t.Logf("%s: %v", addr, err)
			continue
		}
		if got := IsLoopback(l); got != want {
			t.Errorf("IsLoopback(%s) = %v", addr, got)
		}
		l.Close()
	}
}
