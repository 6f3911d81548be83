package video

import (
	"fmt"
	"math"
)

// Timecode formats seconds as PySceneDetect's FrameTimecode.get_timecode
// does: HH:MM:SS.nnn, rounded to the millisecond.
func Timecode(seconds float64) string {
	if seconds < 0 || seconds != seconds {
		seconds = 0
	}
	ms := int64(math.Round(seconds * 1000))
	h := ms / 3_600_000
	ms -= h * 3_600_000
	m := ms / 60_000
	ms -= m * 60_000
	return fmt.Sprintf("%02d:%02d:%02d.%03d", h, m, ms/1000, ms%1000)
}

// smpte formats a frame count as a non-drop-frame SMPTE time code,
// HH:MM:SS:FF, at fps frames per second (an integer base).
func smpte(frames, fps int) string {
	if frames < 0 {
		frames = 0
	}
	ff := frames % fps
	s := frames / fps
	return fmt.Sprintf("%02d:%02d:%02d:%02d", s/3600, s/60%60, s%60, ff)
}
