package video_test

import (
	"fmt"
	"os"

	"github.com/dlrun/dlrun/video"
)

// Frames that turn from red to blue at frame 30: the content detector
// cuts there, and the scene list follows.
func ExampleContentDetector() {
	frame := func(i int) video.Frame {
		rgb := make([]byte, 48*27*3)
		for p := 0; p < len(rgb); p += 3 {
			if i < 30 {
				rgb[p] = 255
			} else {
				rgb[p+2] = 255
			}
		}
		return video.Frame{Index: i, Time: float64(i) / 25, Width: 48, Height: 27, RGB: rgb}
	}
	var det video.ContentDetector
	var cuts []video.Cut
	for i := 0; i < 60; i++ {
		c, err := det.Push(frame(i))
		if err != nil {
			panic(err)
		}
		cuts = append(cuts, c...)
	}
	scenes, _ := video.Scenes(cuts, 60, 60.0/25)
	for _, s := range scenes {
		fmt.Printf("frames %d-%d, %s to %s\n", s.Start, s.End-1, video.Timecode(s.StartTime), video.Timecode(s.EndTime))
	}
	// Output:
	// frames 0-29, 00:00:00.000 to 00:00:01.200
	// frames 30-59, 00:00:01.200 to 00:00:02.400
}

func ExampleWriteCSV() {
	scenes := []video.Scene{{Start: 0, End: 30, StartTime: 0, EndTime: 1.2}, {Start: 30, End: 60, StartTime: 1.2, EndTime: 2.4}}
	video.WriteCSV(os.Stdout, scenes)
	// Output:
	// Timecode List:,00:00:01.200
	// Scene Number,Start Frame,Start Timecode,Start Time (seconds),End Frame,End Timecode,End Time (seconds),Length (frames),Length (timecode),Length (seconds)
	// 1,1,00:00:00.000,0.000,30,00:00:01.200,1.200,30,00:00:01.200,1.200
	// 2,31,00:00:01.200,1.200,60,00:00:02.400,2.400,30,00:00:01.200,1.200
}
