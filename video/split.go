package video

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/dlrun/dlrun/internal/atomicfile"
	"github.com/pkg/errors"
)

// Split writes each scene of the video at path to its own file in dir,
// named as PySceneDetect's split-video names them,
// NAME-Scene-001.mp4 (NAME: the video's name without its extension), and
// encoded as it encodes them: H.264 (libx264, CRF 22, preset veryfast)
// with AAC sound, cut at the scenes' exact times. Each file appears only
// once complete. It returns the files' paths.
func Split(ctx context.Context, tools Tools, path string, scenes []Scene, dir string) ([]string, error) {
	prog, err := tools.ffmpeg()
	if err != nil {
		return nil, err
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return nil, errors.Errorf("video: split: %s is not a folder", dir)
	}
	if len(scenes) > 9999 {
		return nil, errors.Wrapf(ErrBadOptions, "video: split into %d scenes", len(scenes))
	}
	name := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	var out []string
	for i, s := range scenes {
		dest := filepath.Join(dir, fmt.Sprintf("%s-Scene-%03d.mp4", name, i+1))
		err := encodeTo(ctx, prog, dest, []string{
			"-ss", seconds(s.StartTime), "-i", "file:" + path, "-t", seconds(s.Duration()),
			"-map", "0:v:0", "-map", "0:a:0?", "-c:v", "libx264", "-preset", "veryfast", "-crf", "22",
			"-pix_fmt", "yuv420p", "-c:a", "aac", "-f", "mp4"})
		if err != nil {
			return out, err
		}
		out = append(out, dest)
	}
	return out, nil
}

func seconds(t float64) string { return strconv.FormatFloat(t, 'f', 6, 64) }

// encodeTo runs ffmpeg with args (inputs, filters and output options, but
// no output) into a temporary file beside dest, then renames it to dest:
// internal/atomicfile's rule for the destination (a regular file or
// nothing; a link followed to one).
func encodeTo(ctx context.Context, prog, dest string, args []string) error {
	f, err := atomicfile.Create(dest, 0o644)
	if err != nil {
		return errors.Wrap(err, "video")
	}
	all := append([]string{"-nostdin", "-hide_banner", "-nostats", "-loglevel", "error", "-y"}, args...)
	cmd := command(ctx, prog, append(all, f.TempName())...)
	stderr := &tail{keep: 8}
	cmd.Stderr = stderr
	if err := cmd.Run(); err != nil {
		f.Abort()
		if ctx.Err() != nil {
			return errors.Wrapf(ctx.Err(), "video: writing %s", dest)
		}
		return errors.Errorf("video: writing %s: %s", dest, stderr.cause())
	}
	return errors.Wrap(f.Commit(), "video")
}
