package video

import (
	"math"
	"strings"
	"testing"
)

// FuzzShowinfo feeds arbitrary log lines to the parsers of ffmpeg's
// showinfo output and the stderr keeper: none may panic, a parsed time is
// a number (or NaN for a frame without one), a rate is finite and not
// negative, and the keeper holds bounded lines.
func FuzzShowinfo(f *testing.F) {
	f.Add("[Parsed_showinfo_2 @ 0x55b42ae2a5c0] n:   0 pts:      0 pts_time:0       pos:       48 fmt:rgb24 sar:1/1 s:48x27\n")
	f.Add("[Parsed_showinfo_2 @ 0x55b42ae2a5c0] n:  12 pts:  61440 pts_time:4.8     pos: 9 fmt:rgb24\n")
	f.Add("[Parsed_showinfo_2 @ 0x1] n: 3 pts: NOPTS pts_time:NOPTS pos: -1\n")
	f.Add("[Parsed_showinfo_1 @ 0x55b42ae2a5c0] config in time_base: 1/12800, frame_rate: 25/1\n")
	f.Add("[Parsed_showinfo_1 @ 0x55b42ae2a5c0] config in time_base: 1/1000, frame_rate: 0/0\n")
	f.Add("[mov,mp4,m4a,3gp,3g2,mj2 @ 0x561acb5dd480] moov atom not found\nx.mp4: Invalid data found when processing input\n")
	f.Add(strings.Repeat("x", 10000))
	f.Fuzz(func(t *testing.T, s string) {
		if v, ok := showinfoTime([]byte(s)); ok && math.IsInf(v, 0) && !strings.Contains(strings.ToLower(s), "inf") {
			t.Errorf("time %v from %q", v, s)
		}
		if r, ok := showinfoRate([]byte(s)); ok && (r < 0 || math.IsInf(r, 0) || r != r) {
			t.Errorf("rate %v from %q", r, s)
		}
		tl := &tail{keep: 4}
		tl.Write([]byte(s))
		c := tl.cause()
		if len(c) > maxLine || strings.Contains(c, "\n") || len(tl.lines) > 4 {
			t.Errorf("cause %q, %d lines", c, len(tl.lines))
		}
		classify("x.mp4", tl)
		_ = ratio(s)
	})
}
