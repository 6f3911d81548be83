package video

import (
	"encoding/csv"
	"fmt"
	"io"

	"github.com/pkg/errors"
)

// csvHeader is PySceneDetect's scene-list header
// (scenedetect/output/__init__.py, write_scene_list).
var csvHeader = []string{
	"Scene Number", "Start Frame", "Start Timecode", "Start Time (seconds)",
	"End Frame", "End Timecode", "End Time (seconds)",
	"Length (frames)", "Length (timecode)", "Length (seconds)",
}

// WriteCSV writes scenes as PySceneDetect's scene-list CSV (what
// `scenedetect list-scenes` writes), so that tools reading one read the
// other: a first row "Timecode List:" followed by the time code of each
// cut, then the header and one row per scene, with 1-based start frames,
// end frames equal to the last frame's 1-based number, HH:MM:SS.nnn time
// codes and seconds to three decimals.
func WriteCSV(w io.Writer, scenes []Scene) error {
	cw := csv.NewWriter(w)
	cuts := []string{"Timecode List:"}
	for _, s := range scenes[min(1, len(scenes)):] {
		cuts = append(cuts, Timecode(s.StartTime))
	}
	cw.Write(cuts)
	cw.Write(csvHeader)
	for i, s := range scenes {
		cw.Write([]string{
			fmt.Sprint(i + 1),
			fmt.Sprint(s.Start + 1), Timecode(s.StartTime), fmt.Sprintf("%.3f", s.StartTime),
			fmt.Sprint(s.End), Timecode(s.EndTime), fmt.Sprintf("%.3f", s.EndTime),
			fmt.Sprint(s.Frames()), Timecode(s.Duration()), fmt.Sprintf("%.3f", s.Duration()),
		})
	}
	cw.Flush()
	return errors.Wrap(cw.Error(), "video: writing scene list")
}
