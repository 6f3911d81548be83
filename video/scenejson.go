package video

import (
	"encoding/json"
	"io"

	"github.com/pkg/errors"
)

// sceneJSON is one scene in WriteJSON's output.
type sceneJSON struct {
	Scene         int     `json:"scene"`
	StartFrame    int     `json:"start_frame"`
	EndFrame      int     `json:"end_frame"`
	Start         float64 `json:"start"`
	End           float64 `json:"end"`
	StartTimecode string  `json:"start_timecode"`
	EndTimecode   string  `json:"end_timecode"`
}

// listJSON is WriteJSON's document.
type listJSON struct {
	Video     string      `json:"video"`
	Frames    int         `json:"frames"`
	Duration  float64     `json:"duration"`
	Rate      float64     `json:"frame_rate"`
	Truncated bool        `json:"truncated"`
	Scenes    []sceneJSON `json:"scenes"`
}

// WriteJSON writes r's scenes as one JSON object: the video's name, frame
// count, duration in seconds, nominal frame rate, whether decoding stopped
// at the maximum duration, and the scenes, numbered from 1, each with its
// 0-based start frame, end frame (exclusive), times in seconds and time
// codes.
func WriteJSON(w io.Writer, name string, r Result) error {
	doc := listJSON{Video: name, Frames: r.Frames, Duration: r.Duration, Rate: r.Rate, Truncated: r.Truncated,
		Scenes: make([]sceneJSON, len(r.Scenes))}
	for i, s := range r.Scenes {
		doc.Scenes[i] = sceneJSON{i + 1, s.Start, s.End, s.StartTime, s.EndTime, Timecode(s.StartTime), Timecode(s.EndTime)}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return errors.Wrap(enc.Encode(doc), "video: writing scene list")
}
