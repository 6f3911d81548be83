package serve

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// httpError is an error with the HTTP status code of its answer.
type httpError struct {
	code int
	msg  string
}

func (e *httpError) Error() string { return e.msg }

// errorf returns an httpError with code and a message formatted as
// fmt.Sprintf does, on one line.
func errorf(code int, format string, args ...any) error {
	return &httpError{code: code, msg: oneLine(fmt.Sprintf(format, args...))}
}

// badRequest returns a 400 error formatted as fmt.Sprintf does.
func badRequest(format string, args ...any) error {
	return errorf(http.StatusBadRequest, format, args...)
}

// oneLine joins the lines of msg with "; ".
func oneLine(msg string) string {
	if !strings.ContainsAny(msg, "\r\n") {
		return msg
	}
	return strings.Join(strings.FieldsFunc(msg, func(r rune) bool { return r == '\n' || r == '\r' }), "; ")
}

// writeJSON writes v as JSON with status code.
func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		code, b = http.StatusInternalServerError, mustMarshal(ErrorResponse{Error: "encoding the answer: " + oneLine(err.Error())})
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", fmt.Sprint(len(b)+1))
	w.WriteHeader(code)
	w.Write(append(b, '\n'))
}

// writeError writes err as KServe's error body, {"error": "..."}, with
// its code (500 for an error that is not an httpError).
func writeError(w http.ResponseWriter, err error) {
	code := http.StatusInternalServerError
	if e, ok := err.(*httpError); ok {
		code = e.code
	}
	writeJSON(w, code, ErrorResponse{Error: oneLine(err.Error())})
}

func mustMarshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
