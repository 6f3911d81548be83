package video

import "github.com/pkg/errors"

// Sentinel errors; the errors that the package returns wrap them, so
// errors.Is tells what went wrong while the message names the file.
var (
	// ErrNoFFmpeg: ffmpeg or ffprobe is not installed.
	ErrNoFFmpeg = errors.New("video: ffmpeg not found (install Debian's ffmpeg package: apt-get install ffmpeg)")
	// ErrEmpty: the input holds no bytes, or no frames.
	ErrEmpty = errors.New("empty video")
	// ErrNoVideo: the input is a media file without a video stream.
	ErrNoVideo = errors.New("no video stream")
	// ErrUnreadable: ffmpeg cannot read the input (corrupt, truncated,
	// or not a media file).
	ErrUnreadable = errors.New("not a video ffmpeg can read")
	// ErrTooLarge: the stream's frames exceed Options.MaxPixels.
	ErrTooLarge = errors.New("video frames too large")
	// ErrBadOptions: Options or arguments out of range.
	ErrBadOptions = errors.New("bad video options")
)
