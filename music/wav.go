package music

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// DefaultSoundFont is the General MIDI soundfont of Debian's
// fluid-soundfont-gm package, which RenderWAV uses when
// WAVOptions.SoundFont is empty.
const DefaultSoundFont = "/usr/share/sounds/sf2/FluidR3_GM.sf2"

// synthPackages is what a Debian or Ubuntu system installs to render WAV.
const synthPackages = "apt-get install fluidsynth fluid-soundfont-gm"

// WAVOptions are the choices RenderWAV leaves open; the zero value renders
// with Debian's General MIDI soundfont at 44,100 Hz.
type WAVOptions struct {
	WriteOptions               // the instrument, velocity and name of the MIDI rendered
	SoundFont    string        // a .sf2 soundfont; "" means DefaultSoundFont
	SampleRate   int           // samples a second, 8,000 to 96,000; zero means 44,100
	Gain         float64       // FluidSynth's master gain, 0 to 10; zero means 0.5
	Timeout      time.Duration // the most FluidSynth may take; zero means 30 s plus the roll's length
	Synth        string        // the FluidSynth program; "" means "fluidsynth" on the PATH
}

// RenderWAV renders r to a 16-bit stereo WAV file at path with FluidSynth:
// the roll is written as MIDI (Write, with o.WriteOptions) to a temporary
// folder, FluidSynth renders it into a temporary file beside path, and
// that file is renamed onto path, so a failed render leaves what was at
// path as it was (and a successful one replaces it: a caller that must
// not replace a file checks first). FluidSynth runs with no shell, no MIDI input and no
// audio device, and is stopped when ctx ends or after o.Timeout.
//
// When FluidSynth or the soundfont is missing the error wraps ErrNoSynth
// and names the Debian packages that provide them (fluidsynth,
// fluid-soundfont-gm).
func RenderWAV(ctx context.Context, r *Roll, path string, o WAVOptions) error {
	synth := o.Synth
	if synth == "" {
		synth = "fluidsynth"
	}
	prog, err := exec.LookPath(synth)
	if err != nil {
		return fmt.Errorf("rendering %s: %w: %s is not installed (%s)", path, ErrNoSynth, synth, synthPackages)
	}
	font := o.SoundFont
	if font == "" {
		font = DefaultSoundFont
	}
	if fi, err := os.Stat(font); err != nil || !fi.Mode().IsRegular() {
		return fmt.Errorf("rendering %s: %w: no soundfont at %s (%s)", path, ErrNoSynth, font, synthPackages)
	}
	rate := o.SampleRate
	if rate == 0 {
		rate = 44100
	}
	if rate < 8000 || rate > 96000 {
		return fmt.Errorf("rendering %s: sample rate %d: want 8000 to 96000", path, rate)
	}
	gain := o.Gain
	if gain == 0 {
		gain = 0.5
	}
	if !(gain > 0 && gain <= 10) {
		return fmt.Errorf("rendering %s: gain %g: want more than 0, at most 10", path, gain)
	}
	timeout := o.Timeout
	if timeout == 0 {
		timeout = 30*time.Second + time.Duration(r.Seconds()*float64(time.Second))
	}
	mid, err := encode(r, o.WriteOptions)
	if err != nil {
		return fmt.Errorf("rendering %s: %w", path, err)
	}

	tmpDir, err := os.MkdirTemp("", "dlrun-wav-")
	if err != nil {
		return fmt.Errorf("rendering %s: %w", path, err)
	}
	defer os.RemoveAll(tmpDir)
	midPath := filepath.Join(tmpDir, "piece.mid")
	if err := os.WriteFile(midPath, mid, 0o600); err != nil {
		return fmt.Errorf("rendering %s: %w", path, err)
	}
	out, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("rendering %s: %w", path, err)
	}
	tmp := out.Name()
	out.Close()
	done := false
	defer func() {
		if !done {
			os.Remove(tmp)
		}
	}()

	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, prog, "-n", "-i", "-q", "-F", tmp, "-T", "wav", "-O", "s16",
		"-r", strconv.Itoa(rate), "-g", strconv.FormatFloat(gain, 'g', -1, 64), font, midPath)
	var stderr tailBuffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Run(); err != nil {
		if ctx.Err() == context.DeadlineExceeded {
			return fmt.Errorf("rendering %s: %s did not finish within %v", path, synth, timeout)
		}
		if ctx.Err() != nil {
			return fmt.Errorf("rendering %s: %w", path, ctx.Err())
		}
		return fmt.Errorf("rendering %s: %s failed (%v): %s", path, synth, err, stderr.lastLine())
	}
	head := make([]byte, 12)
	f, err := os.Open(tmp)
	if err == nil {
		_, err = f.Read(head)
		if err == nil {
			err = f.Sync()
		}
		if err == nil {
			err = f.Chmod(0o644)
		}
		f.Close()
	}
	if err != nil || string(head[:4]) != "RIFF" || string(head[8:12]) != "WAVE" {
		return fmt.Errorf("rendering %s: %s wrote no WAV file: %s", path, synth, stderr.lastLine())
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("rendering %s: %w", path, err)
	}
	done = true
	return nil
}

// tailBuffer keeps the last 4 KiB written to it.
type tailBuffer struct{ b []byte }

var _ io.Writer = (*tailBuffer)(nil)

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > 4096 {
		t.b = append(t.b[:0:0], t.b[len(t.b)-4096:]...)
	}
	return len(p), nil
}

// lastLine returns the last line of output that is not blank, or "no
// output".
func (t *tailBuffer) lastLine() string {
	lines := strings.Split(string(bytes.TrimSpace(t.b)), "\n")
	if l := strings.TrimSpace(lines[len(lines)-1]); l != "" {
		return l
	}
	return "no output"
}
