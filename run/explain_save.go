package run

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"path/filepath"
	"strings"

	"github.com/dlrun/dlrun/internal/atomicfile"
	"github.com/dlrun/dlrun/rundir"
	"github.com/pkg/errors"
)

// Print writes every explanation for a reader, one after another, in
// 24-bit colour if colour is set (a terminal).
func (e *Explanations) Print(w io.Writer, colour bool) error {
	for i, it := range e.Items {
		if i > 0 {
			if _, err := io.WriteString(w, "\n"); err != nil {
				return err
			}
		}
		if err := it.Print(w, colour); err != nil {
			return err
		}
	}
	return nil
}

// IsPage reports whether Save writes out as one HTML page (a name ending
// in .html or .htm) rather than a folder of files.
func IsPage(out string) bool {
	ext := strings.ToLower(filepath.Ext(out))
	return ext == ".html" || ext == ".htm"
}

// Save writes the explanations to out and returns the paths it wrote. Out
// ending in .html (IsPage) is one HTML page holding them all, the
// pictures inside it. Otherwise out is a folder, made if need be, that
// receives each explanation's files (its stem, from its input, and each
// file's suffix: shirt-integrated-gradients.png, text-1.html) and last
// explanations.json (rundir.ExplanationIndex): the Explanations as JSON,
// each naming its files, what the board reads. Every file is written
// whole or not at all, only where nothing or a regular file is
// (internal/atomicfile's rule); every destination is checked before the
// first is written.
func (e *Explanations) Save(out string) ([]string, error) {
	if IsPage(out) {
		var b bytes.Buffer
		if err := e.WriteHTML(&b); err != nil {
			return nil, err
		}
		if err := atomicfile.WriteFile(out, b.Bytes(), 0o644); err != nil {
			return nil, err
		}
		return []string{out}, nil
	}
	type file struct {
		path string
		data []byte
	}
	var files []file
	for _, it := range e.Items {
		fs, err := it.Files()
		if err != nil {
			return nil, err
		}
		h := it.Head()
		h.Files = nil
		for _, f := range fs {
			name := h.stem + f.Suffix
			h.Files = append(h.Files, name)
			files = append(files, file{filepath.Join(out, name), f.Data})
		}
	}
	index, err := json.Marshal(e)
	if err != nil {
		return nil, err
	}
	files = append(files, file{filepath.Join(out, rundir.ExplanationIndex), append(index, '\n')})
	if err := atomicfile.CheckFolder(out); err != nil {
		return nil, err
	}
	for _, f := range files {
		if _, err := atomicfile.Dest(f.path); err != nil {
			return nil, err
		}
	}
	if _, err := atomicfile.MkdirAll(out, 0o755); err != nil {
		return nil, err
	}
	paths := make([]string, len(files))
	for i, f := range files {
		if err := atomicfile.WriteFile(f.path, f.data, 0o644); err != nil {
			return paths[:i], err
		}
		paths[i] = f.path
	}
	return paths, nil
}

// WriteHTML writes the explanations as one HTML page, every picture in
// it, everything from the inputs escaped.
func (e *Explanations) WriteHTML(w io.Writer) error {
	b := bufio.NewWriter(w)
	title := html.EscapeString(fmt.Sprintf("dlrun explain: %s (%s)", e.Model, e.Kind))
	fmt.Fprintf(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>%s</title>\n", title)
	b.WriteString("<style>body{font-family:sans-serif;margin:2em;max-width:60em}section{margin:2em 0}img{image-rendering:pixelated}" +
		"table{border-collapse:collapse}td,th{padding:2px 8px;text-align:left}td.n{text-align:right}" +
		"pre{font-size:16px;line-height:1.7;white-space:pre-wrap}pre span{padding:1px 0}</style>\n</head>\n<body>\n")
	fmt.Fprintf(b, "<h1>%s</h1>\n<p>Weights: %s</p>\n", title, html.EscapeString(e.Weights))
	for _, it := range e.Items {
		fmt.Fprintf(b, "<section>\n<h2>%s</h2>\n", html.EscapeString(it.Head().Input))
		if err := it.HTML(b); err != nil {
			return err
		}
		b.WriteString("</section>\n")
	}
	b.WriteString("</body>\n</html>\n")
	return b.Flush()
}

// MarshalJSON writes the explanations with each item's concrete fields.
func (e *Explanations) MarshalJSON() ([]byte, error) {
	type plain Explanations
	p := plain(*e)
	if p.Items == nil {
		p.Items = []Explanation{}
	}
	b, err := json.Marshal(p)
	return b, errors.Wrap(err, "encoding explanations")
}
