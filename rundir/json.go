package rundir

import (
	"encoding/json"
	"errors"
	"fmt"
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
// in an error wrapping ErrDuplicateKey; or the document's syntax error.
// It reads b byte by byte, allocating only for the keys of objects, so a
// long list of values (a vocabulary) costs nothing.
func CheckDuplicateKeys(b []byte) error {
	if !json.Valid(b) {
		var v struct{}
		err := json.Unmarshal(b, &v) // checks the syntax before it decodes anything
		if err == nil {
			err = errors.New("not valid JSON")
		}
		return OneLine(err)
	}
	s := &dupScanner{b: b}
	return s.value()
}

// dupScanner walks valid JSON, checking each object's keys.
type dupScanner struct {
	b    []byte
	i    int
	path []pathPart
}

// pathPart is an object's key or an array's index on the way to a value.
type pathPart struct {
	key   string
	index int
	array bool
}

func (s *dupScanner) where() string {
	var p strings.Builder
	for _, part := range s.path {
		if part.array {
			p.WriteString("[" + strconv.Itoa(part.index) + "]")
			continue
		}
		if p.Len() > 0 {
			p.WriteByte('.')
		}
		p.WriteString(part.key)
	}
	return p.String()
}

func (s *dupScanner) space() {
	for s.i < len(s.b) && (s.b[s.i] == ' ' || s.b[s.i] == '\t' || s.b[s.i] == '\n' || s.b[s.i] == '\r') {
		s.i++
	}
}

// value checks the value at s.i and moves past it.
func (s *dupScanner) value() error {
	s.space()
	switch s.b[s.i] {
	case '{':
		s.i++
		keys := map[string]bool{}
		s.space()
		if s.b[s.i] == '}' {
			s.i++
			return nil
		}
		for {
			s.space()
			k := s.key()
			s.path = append(s.path, pathPart{key: k})
			if keys[k] {
				return fmt.Errorf("%s: %w", s.where(), ErrDuplicateKey)
			}
			keys[k] = true
			s.space()
			s.i++ // ':'
			if err := s.value(); err != nil {
				return err
			}
			s.path = s.path[:len(s.path)-1]
			s.space()
			if s.b[s.i] == ',' {
				s.i++
				continue
			}
			s.i++ // '}'
			return nil
		}
	case '[':
		s.i++
		s.space()
		if s.b[s.i] == ']' {
			s.i++
			return nil
		}
		s.path = append(s.path, pathPart{array: true})
		for {
			if err := s.value(); err != nil {
				return err
			}
			s.space()
			if s.b[s.i] == ',' {
				s.i++
				s.path[len(s.path)-1].index++
				continue
			}
			s.i++ // ']'
			s.path = s.path[:len(s.path)-1]
			return nil
		}
	case '"':
		s.skipString()
	default: // a number, true, false or null
		for s.i < len(s.b) && !strings.ContainsRune(",]} \t\n\r", rune(s.b[s.i])) {
			s.i++
		}
	}
	return nil
}

// skipString moves past the string at s.i and reports whether it held an
// escape.
func (s *dupScanner) skipString() bool {
	escaped := false
	for s.i++; s.b[s.i] != '"'; s.i++ {
		if s.b[s.i] == '\\' {
			escaped = true
			s.i++
		}
	}
	s.i++
	return escaped
}

// key returns the object key at s.i, unescaped, and moves past it.
func (s *dupScanner) key() string {
	start := s.i
	if !s.skipString() {
		return string(s.b[start+1 : s.i-1])
	}
	var k string
	json.Unmarshal(s.b[start:s.i], &k) // valid JSON: a string
	return k
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
