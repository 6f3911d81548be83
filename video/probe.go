package video

import (
	"context"
	"encoding/json"
	"os"
	"strconv"
	"strings"

	"github.com/pkg/errors"
)

// Info describes a file's first video stream, as ffprobe reads it.
type Info struct {
	Width, Height int     // frame size in pixels
	Codec         string  // ffmpeg's codec name ("h264")
	Format        string  // ffmpeg's container names ("mov,mp4,m4a,3gp,3g2,mj2")
	Rate          float64 // average frame rate (frames per second); 0 if unknown
	Duration      float64 // seconds; 0 if unknown
	Frames        int     // frames the container declares; 0 if unknown
}

// DefaultMaxPixels bounds a stream's frame size when Options.MaxPixels is
// zero: 8K UHD (7680x4320), with room for 8192x4320 cinema frames.
const DefaultMaxPixels = 8192 * 4320

// probeJSON is the part of ffprobe's JSON that Probe reads.
type probeJSON struct {
	Streams []struct {
		CodecName    string `json:"codec_name"`
		Width        int    `json:"width"`
		Height       int    `json:"height"`
		AvgFrameRate string `json:"avg_frame_rate"`
		RFrameRate   string `json:"r_frame_rate"`
		Duration     string `json:"duration"`
		NbFrames     string `json:"nb_frames"`
	} `json:"streams"`
	Format struct {
		FormatName string `json:"format_name"`
		Duration   string `json:"duration"`
	} `json:"format"`
}

// Probe reads the first video stream of the file at path with ffprobe. An
// empty file, one ffprobe cannot read, one without video and one whose
// frames exceed maxPixels (zero: DefaultMaxPixels) each give one line of
// error wrapping ErrEmpty, ErrUnreadable, ErrNoVideo or ErrTooLarge.
func Probe(ctx context.Context, tools Tools, path string, maxPixels int) (Info, error) {
	prog, err := tools.ffprobe()
	if err != nil {
		return Info{}, err
	}
	st, err := os.Stat(path)
	if err != nil {
		return Info{}, errors.Wrap(err, "video")
	}
	if st.IsDir() {
		return Info{}, errors.Wrapf(ErrUnreadable, "video: %s is a folder", path)
	}
	if st.Mode().IsRegular() && st.Size() == 0 {
		return Info{}, errors.Wrapf(ErrEmpty, "video: %s: 0 bytes", path)
	}
	var stderr = &tail{keep: 8}
	cmd := command(ctx, prog, "-v", "error", "-of", "json", "-select_streams", "v:0",
		"-show_entries", "stream=codec_name,width,height,r_frame_rate,avg_frame_rate,nb_frames,duration:format=format_name,duration",
		"-i", "file:"+path)
	cmd.Stderr = stderr
	out, err := cmd.Output()
	if ctx.Err() != nil {
		return Info{}, errors.Wrapf(ctx.Err(), "video: probing %s", path)
	}
	if err != nil {
		return Info{}, classify(path, stderr)
	}
	var p probeJSON
	if err := json.Unmarshal(out, &p); err != nil {
		return Info{}, errors.Wrapf(ErrUnreadable, "video: %s: ffprobe's answer: %v", path, err)
	}
	if len(p.Streams) == 0 {
		return Info{}, errors.Wrapf(ErrNoVideo, "video: %s", path)
	}
	s := p.Streams[0]
	info := Info{
		Width: s.Width, Height: s.Height, Codec: s.CodecName, Format: p.Format.FormatName,
		Rate: ratio(s.AvgFrameRate), Duration: number(s.Duration),
	}
	if info.Rate == 0 {
		info.Rate = ratio(s.RFrameRate)
	}
	if info.Duration == 0 {
		info.Duration = number(p.Format.Duration)
	}
	if n, err := strconv.Atoi(s.NbFrames); err == nil && n > 0 {
		info.Frames = n
	}
	if err := checkSize(path, info.Width, info.Height, maxPixels); err != nil {
		return info, err
	}
	return info, nil
}

// checkSize refuses a frame size that is unknown or above maxPixels.
func checkSize(input string, w, h, maxPixels int) error {
	if maxPixels <= 0 {
		maxPixels = DefaultMaxPixels
	}
	if w <= 0 || h <= 0 {
		return errors.Wrapf(ErrUnreadable, "video: %s: frame size %dx%d", input, w, h)
	}
	if int64(w)*int64(h) > int64(maxPixels) {
		return errors.Wrapf(ErrTooLarge, "video: %s: %dx%d frames are over the limit of %d pixels", input, w, h, maxPixels)
	}
	return nil
}

// ratio parses ffprobe's "num/den" rates; 0 for "0/0" or anything odd.
func ratio(s string) float64 {
	num, den, ok := strings.Cut(s, "/")
	if !ok {
		return number(s)
	}
	n, d := number(num), number(den)
	if d == 0 || n/d > 1e12 {
		return 0
	}
	return n / d
}

// number parses a decimal, 0 for "N/A" or anything odd.
func number(s string) float64 {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v != v || v < 0 || v > 1e12 {
		return 0
	}
	return v
}
