package rundir

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/dlrun/dlrun/internal/safeio"
)

// ErrDuplicateKey is wrapped by DecodeJSON's error for an object that sets
// a key twice: encoding/json would keep the last silently, and two readers
// could disagree about what the file says.
var ErrDuplicateKey = errors.New("key set twice")

// DecodeJSON decodes the JSON document b into v strictly: b must hold one
// JSON value and no object in it may set a key twice. The error is one
// line naming the field at fault where there is one
// ("classes: ..."; `key "epochs" set twice`).
func DecodeJSON(b []byte, v any) error {
	if err := CheckDuplicateKeys(b); err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return OneLine(fieldError(err))
	}
	return nil
}

// fieldError names the field of a type error first.
func fieldError(err error) error {
	var typ *json.UnmarshalTypeError
	if errors.As(err, &typ) && typ.Field != "" {
		return fmt.Errorf("%s: a JSON %s, want %s", typ.Field, typ.Value, typ.Type)
	}
	return err
}

// CheckDuplicateKeys reports the first object of the JSON document b that
// sets a key twice, naming the key by its path (agent.env, layers[2].kind),
// in an error wrapping ErrDuplicateKey; or the document's syntax error, or
// a second value after the first. It reads b as a stream of tokens,
// holding one set of keys per open object.
func CheckDuplicateKeys(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	type frame struct {
		object bool
		keys   map[string]bool
		key    string // the object's key whose value is being read
		want   bool   // an object awaiting a key
		index  int    // an array's next element
	}
	var stack []*frame
	path := func() string {
		var p strings.Builder
		for _, f := range stack {
			if f.object {
				if p.Len() > 0 {
					p.WriteByte('.')
				}
				p.WriteString(f.key)
			} else {
				p.WriteString("[" + strconv.Itoa(f.index) + "]")
			}
		}
		return p.String()
	}
	// value marks the end of a value inside the innermost frame.
	value := func() {
		if n := len(stack); n > 0 {
			if f := stack[n-1]; f.object {
				f.want = true
			} else {
				f.index++
			}
		}
	}
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			if len(stack) > 0 {
				return errors.New("unexpected end of JSON input")
			}
			return errors.New("no JSON value")
		}
		if err != nil {
			return OneLine(err)
		}
		if n := len(stack); n > 0 && stack[n-1].object && stack[n-1].want {
			f := stack[n-1]
			if k, ok := tok.(string); ok {
				if f.keys[k] {
					f.key = k
					return fmt.Errorf("%s: %w", path(), ErrDuplicateKey)
				}
				f.keys[k], f.key, f.want = true, k, false
				continue
			}
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &frame{object: true, keys: map[string]bool{}, want: true})
			continue
		case json.Delim('['):
			stack = append(stack, &frame{})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		value()
		if len(stack) == 0 {
			break
		}
	}
	if _, err := dec.Token(); err != io.EOF {
		if err == nil {
			return errors.New("a second JSON value after the first")
		}
		return OneLine(err)
	}
	return nil
}

// ReadJSON reads the JSON file name of run folder dir, a regular file of
// at most limit bytes (safeio), into v with DecodeJSON. Errors name the
// file: "runs/cnn/config.json: epochs: ...".
func ReadJSON(dir, name string, limit int64, v any) error {
	path := filepath.Join(dir, name)
	b, err := safeio.ReadFile(path, limit)
	if err != nil {
		return err
	}
	if err := DecodeJSON(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// OneLine is err with every run of white space, line breaks included,
// made one space; it keeps what err wraps.
func OneLine(err error) error {
	if err == nil {
		return nil
	}
	msg := strings.Join(strings.Fields(err.Error()), " ")
	if msg == err.Error() {
		return err
	}
	return &oneLine{msg, err}
}

type oneLine struct {
	msg string
	err error
}

func (e *oneLine) Error() string { return e.msg }
func (e *oneLine) Unwrap() error { return e.err }
