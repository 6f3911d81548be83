package video

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strings"

	"github.com/pkg/errors"
)

// WriteEDL writes scenes as a CMX 3600 edit decision list, the plain-text
// format that Premiere, Resolve, Avid and Final Cut import: a title, the
// frame-code mode (non-drop frame), and one cut event per scene, in
// order, taking the scene from the source clip (reel "AX", the
// convention for a file-based clip, with a "FROM CLIP NAME" comment
// naming the file) and laying the scenes end to end on the record side.
// Time codes count frames at the rate rounded to an integer (30 for
// 29.97), from the scenes' times, so variable-rate video lines up too.
func WriteEDL(w io.Writer, title, clip string, scenes []Scene, rate float64) error {
	fps := int(math.Round(rate))
	if fps <= 0 || fps > 1000 {
		return errors.Wrapf(ErrBadOptions, "video: EDL at %v frames per second", rate)
	}
	if len(scenes) > 999 {
		return errors.Wrapf(ErrBadOptions, "video: EDL of %d scenes (CMX 3600 numbers events up to 999)", len(scenes))
	}
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "TITLE: %s\r\nFCM: NON-DROP FRAME\r\n\r\n", oneLine(title))
	rec := 0
	for i, s := range scenes {
		in := int(math.Round(s.StartTime * float64(fps)))
		out := int(math.Round(s.EndTime * float64(fps)))
		n := out - in
		fmt.Fprintf(bw, "%03d  AX       V     C        %s %s %s %s\r\n", i+1,
			smpte(in, fps), smpte(out, fps), smpte(rec, fps), smpte(rec+n, fps))
		fmt.Fprintf(bw, "* FROM CLIP NAME: %s\r\n\r\n", oneLine(filepath.Base(clip)))
		rec += n
	}
	return errors.Wrap(bw.Flush(), "video: writing EDL")
}

// oneLine keeps a name from breaking an EDL's lines.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return ' '
		}
		return r
	}, s)
}
