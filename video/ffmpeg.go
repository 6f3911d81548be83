package video

import (
	"bytes"
	"context"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/pkg/errors"
)

// Tools names the ffmpeg and ffprobe programs to run. The zero value looks
// both up on PATH.
type Tools struct {
	FFmpeg  string // zero means "ffmpeg" on PATH
	FFprobe string // zero means "ffprobe" on PATH
}

// lookPath resolves name (or def when name is empty) to a program, or
// returns ErrNoFFmpeg naming it.
func lookPath(name, def string) (string, error) {
	if name == "" {
		name = def
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return "", errors.Wrapf(ErrNoFFmpeg, "%s", name)
	}
	return p, nil
}

func (t Tools) ffmpeg() (string, error)  { return lookPath(t.FFmpeg, "ffmpeg") }
func (t Tools) ffprobe() (string, error) { return lookPath(t.FFprobe, "ffprobe") }

// command makes a child process that the context's end kills outright
// (SIGKILL: ffmpeg may ignore a polite signal while blocked on a pipe),
// and whose pipes are abandoned a second after it dies.
func command(ctx context.Context, prog string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, prog, args...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGKILL) }
	cmd.WaitDelay = time.Second
	return cmd
}

// tail keeps the last lines written to it, at most max bytes each and at
// most keep lines, so that a chatty child's stderr costs bounded memory.
type tail struct {
	lines []string
	keep  int
	part  bytes.Buffer
}

const maxLine = 4096

func (t *tail) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			t.add(p)
			break
		}
		t.add(p[:i])
		t.flush()
		p = p[i+1:]
	}
	return n, nil
}

func (t *tail) add(p []byte) {
	if room := maxLine - t.part.Len(); room > 0 {
		if len(p) > room {
			p = p[:room]
		}
		t.part.Write(p)
	}
}

func (t *tail) flush() {
	line := strings.TrimSpace(t.part.String())
	t.part.Reset()
	if line == "" {
		return
	}
	t.lines = append(t.lines, line)
	if len(t.lines) > t.keep {
		t.lines = t.lines[len(t.lines)-t.keep:]
	}
}

// tooLarge reports whether ffmpeg said a frame exceeded its pixel limit.
func (t *tail) tooLarge() string {
	t.flush()
	for _, l := range t.lines {
		if strings.Contains(l, "exceeds specified max pixel count") {
			return cleanLine(l)
		}
	}
	return ""
}

// has reports whether one of the lines kept holds text.
func (t *tail) has(text string) bool {
	t.flush()
	for _, l := range t.lines {
		if strings.Contains(l, text) {
			return true
		}
	}
	return false
}

// cause is the one line that best says why ffmpeg failed: its last error
// line, without the "[demuxer @ 0x...]" prefix and the input's name, which
// the caller's message already gives.
func (t *tail) cause() string {
	t.flush()
	for i := len(t.lines) - 1; i >= 0; i-- {
		l := t.lines[i]
		if strings.HasPrefix(l, "[Parsed_showinfo") || strings.HasPrefix(l, "Conversion failed") {
			continue
		}
		return cleanLine(l)
	}
	return ""
}

// cleanLine strips ffmpeg's "[name @ 0x55...] " prefixes from a log line.
func cleanLine(l string) string {
	for strings.HasPrefix(l, "[") {
		j := strings.Index(l, "] ")
		if j < 0 {
			break
		}
		l = l[j+2:]
	}
	return l
}

// classify turns ffmpeg's or ffprobe's last words about input into one of
// the package's sentinel errors.
func classify(input string, t *tail) error {
	if l := t.tooLarge(); l != "" {
		return errors.Wrapf(ErrTooLarge, "video: %s: %s", input, l)
	}
	cause := t.cause()
	switch {
	case strings.Contains(cause, "exceeds specified max pixel count"),
		strings.Contains(cause, "Picture size") && strings.Contains(cause, "is invalid"):
		return errors.Wrapf(ErrTooLarge, "video: %s: %s", input, cause)
	case strings.Contains(cause, "does not contain any stream"),
		strings.Contains(cause, "matches no streams"):
		return errors.Wrapf(ErrNoVideo, "video: %s", input)
	case cause == "":
		return errors.Wrapf(ErrUnreadable, "video: %s", input)
	}
	for _, name := range []string{"file:" + input + ": ", input + ": "} {
		cause = strings.TrimPrefix(cause, name)
	}
	return errors.Wrapf(ErrUnreadable, "video: %s: %s", input, cause)
}
