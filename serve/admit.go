package serve

import (
	"mime"
	"net/http"
	"strings"
	"time"
)

// What a request body must be, by its Content-Type, before it is read: a
// web page can send a cross-origin POST without asking first only as
// text/plain, a form or multipart, so refusing those keeps pages the user
// visits from posting to the server.
var (
	// jsonTypes: /infer's and /explain's body.
	jsonTypes = []string{"application/json"}
	// imageTypes: /predict-image's body.
	imageTypes = []string{"image/png", "image/jpeg", "image/gif", "image/webp"}
)

// checkContentType returns a 415 error unless r's Content-Type is one of
// want (parameters such as charset aside), or a +json type where want is
// JSON.
func checkContentType(r *http.Request, want []string) error {
	ct := r.Header.Get("Content-Type")
	mt, _, err := mime.ParseMediaType(ct)
	if err == nil {
		for _, w := range want {
			if mt == w || w == "application/json" && strings.HasSuffix(mt, "+json") || w == "image/jpeg" && mt == "image/jpg" {
				return nil
			}
		}
	}
	if ct == "" {
		ct = "none"
	} else {
		ct = `"` + truncate(ct) + `"`
	}
	return errorf(http.StatusUnsupportedMediaType, "Content-Type %s: %s takes %s", ct, r.Pattern, strings.Join(want, " or "))
}

// decodeSlot takes one of the server's decoding slots, waiting at most
// DecodeWait, and returns the function that gives it back; with every
// slot still taken it sets Retry-After on w and returns a 503 error.
func (s *Server) decodeSlot(w http.ResponseWriter, r *http.Request) (release func(), err error) {
	return s.slot(w, r, s.decodes, "decoding %d images, as many as it decodes at once")
}

// slot takes one of the slots of slots, waiting at most DecodeWait, and
// returns the function that gives it back; with every slot still taken
// it sets Retry-After on w and returns a 503 error saying that the
// server is busy (busy, a format taking the number of slots).
func (s *Server) slot(w http.ResponseWriter, r *http.Request, slots chan struct{}, busy string) (release func(), err error) {
	release = func() { <-slots }
	select {
	case slots <- struct{}{}:
		return release, nil
	default:
	}
	t := time.NewTimer(DecodeWait)
	defer t.Stop()
	select {
	case slots <- struct{}{}:
		return release, nil
	case <-r.Context().Done():
		return nil, r.Context().Err()
	case <-t.C:
	}
	w.Header().Set("Retry-After", "1")
	return nil, errorf(http.StatusServiceUnavailable, "the server is "+busy+": try again in a second", cap(slots))
}
