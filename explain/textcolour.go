package explain

import (
	"bufio"
	"cmp"
	"fmt"
	"html"
	"image/color"
	"io"
	"math"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/pkg/errors"
)

// WriteANSI writes a's context for a terminal: each token on a background
// of its attribution's colour (Moreland's cool-warm map: red for the next
// token, blue against it, on the scale of the largest attribution), in
// 24-bit ANSI colour, after a line naming the token explained and before a
// line with the scale. Control characters of the text are written as their
// visible pictures (a line break as ↵ and a new line), never as themselves.
func WriteANSI(w io.Writer, a *TextAttribution) error {
	if err := checkText(a); err != nil {
		return err
	}
	b := bufio.NewWriter(w)
	fmt.Fprintf(b, "%s\n", textHeadline(a))
	scale := maxAbs(a.Values)
	for i, tok := range a.Tokens {
		bg := signedColour(a.Values[i], scale)
		fg := inkOn(bg)
		vis, breaks := visible(tok)
		fmt.Fprintf(b, "\x1b[48;2;%d;%d;%dm\x1b[38;2;%d;%d;%dm%s\x1b[0m", bg.R, bg.G, bg.B, fg.R, fg.G, fg.B, vis)
		if breaks {
			b.WriteString("\n")
		}
	}
	fmt.Fprintf(b, "\n%s\n", scaleLine(scale))
	return b.Flush()
}

// WriteHTML writes a's context as an HTML page: WriteHTMLSection's
// section, titled by the line naming the token explained.
func WriteHTML(w io.Writer, a *TextAttribution) error {
	if err := checkText(a); err != nil {
		return err
	}
	b := bufio.NewWriter(w)
	fmt.Fprintf(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>%s</title>\n", html.EscapeString(textHeadline(a)))
	b.WriteString("<style>body{font-family:sans-serif;margin:2em}pre{font-size:16px;line-height:1.7;white-space:pre-wrap}pre span{padding:1px 0}</style>\n</head>\n<body>\n")
	if err := WriteHTMLSection(b, a); err != nil {
		return err
	}
	b.WriteString("</body>\n</html>\n")
	return b.Flush()
}

// WriteHTMLSection writes a's context as a part of an HTML page: a line
// naming the token explained, then each token on a background of its
// attribution's colour, as WriteANSI's, with the value in its title
// (shown on hover), then the scale. Everything from the text is escaped.
func WriteHTMLSection(w io.Writer, a *TextAttribution) error {
	if err := checkText(a); err != nil {
		return err
	}
	b := bufio.NewWriter(w)
	fmt.Fprintf(b, "<p>%s</p>\n<pre>", html.EscapeString(textHeadline(a)))
	scale := maxAbs(a.Values)
	for i, tok := range a.Tokens {
		bg := signedColour(a.Values[i], scale)
		fg := inkOn(bg)
		vis, breaks := visible(tok)
		fmt.Fprintf(b, "<span style=\"background:#%02x%02x%02x;color:#%02x%02x%02x\" title=\"%+.4g\">%s</span>",
			bg.R, bg.G, bg.B, fg.R, fg.G, fg.B, a.Values[i], html.EscapeString(vis))
		if breaks {
			b.WriteString("\n")
		}
	}
	fmt.Fprintf(b, "</pre>\n<p>%s</p>\n", html.EscapeString(scaleLine(scale)))
	return b.Flush()
}

// PlainTokens is how many tokens WritePlain lists.
const PlainTokens = 10

// WritePlain writes a for a reader without colour (a file, a pipe): the
// line naming the token explained, the context as its visible text, and
// the PlainTokens tokens with the largest attributions (in absolute
// value), largest first, each with its position and value.
func WritePlain(w io.Writer, a *TextAttribution) error {
	if err := checkText(a); err != nil {
		return err
	}
	b := bufio.NewWriter(w)
	var ctx strings.Builder
	for _, tok := range a.Tokens {
		vis, _ := visible(tok)
		ctx.WriteString(vis)
	}
	fmt.Fprintf(b, "%s\ncontext: %s\n", textHeadline(a), ctx.String())
	idx := make([]int, len(a.Values))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(x, y int) int { return cmp.Compare(math.Abs(a.Values[y]), math.Abs(a.Values[x])) })
	if len(idx) > PlainTokens {
		idx = idx[:PlainTokens]
	}
	for _, i := range idx {
		vis, _ := visible(a.Tokens[i])
		fmt.Fprintf(b, "  token %d %q: %+.4g\n", i+1, vis, a.Values[i])
	}
	return b.Flush()
}

// checkText reports whether a can be written.
func checkText(a *TextAttribution) error {
	if a == nil {
		return errors.New("explain: writing a nil text attribution")
	}
	if len(a.Tokens) != len(a.Values) {
		return errors.Errorf("explain: %d tokens and %d attributions", len(a.Tokens), len(a.Values))
	}
	return nil
}

// textHeadline names the token explained and integrated gradients' figures.
func textHeadline(a *TextAttribution) string {
	next, _ := visible(a.Next)
	s := fmt.Sprintf("Next token %q: %s %.4g", next, quantityName(a.Quantity), a.Output)
	if a.BaselineOutput != nil && a.Delta != nil {
		s += fmt.Sprintf(", %.4g from zero embeddings; attributions sum to %.4g (integrated gradients, %d steps, %s; delta %.2g)",
			*a.BaselineOutput, a.Sum(), a.Steps, a.Rule, *a.Delta)
	}
	return s
}

// scaleLine describes the colours' scale.
func scaleLine(scale float64) string {
	return fmt.Sprintf("Red: evidence for the next token, blue: against; full colour at ±%.3g.", scale)
}

// visible returns tok as it is shown: control and other unprintable
// characters as their pictures (U+2400 on) or \u escapes, a line break as
// ↵ (breaks then says to start a new line after it).
func visible(tok string) (vis string, breaks bool) {
	var b strings.Builder
	for _, r := range tok {
		switch {
		case r == '\n':
			b.WriteRune('↵')
			breaks = true
		case r < 0x20:
			b.WriteRune(0x2400 + r)
		case r == 0x7f:
			b.WriteRune('␡')
		case r == utf8.RuneError || !unicode.IsPrint(r) && r != ' ':
			fmt.Fprintf(&b, "\\u%04x", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String(), breaks
}

// inkOn returns black or white, whichever reads better on bg.
func inkOn(bg color.RGBA) color.RGBA {
	if luminance(bg) > 0.45 {
		return color.RGBA{0, 0, 0, 255}
	}
	return color.RGBA{255, 255, 255, 255}
}

// maxAbs returns the largest |v| (1 if every value is 0).
func maxAbs(v []float64) float64 {
	m := 0.0
	for _, x := range v {
		m = math.Max(m, math.Abs(x))
	}
	if m == 0 || math.IsNaN(m) {
		return 1
	}
	return m
}

// quantityName names quantity q in a sentence: logit (the zero Quantity
// of an Attribution made by hand too) or probability.
func quantityName(q Quantity) string {
	if q == Probability {
		return "probability"
	}
	return "logit"
}
