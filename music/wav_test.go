package music

import (
	"context"
	"encoding/binary"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestRenderWAV(t *testing.T) {
	if _, err := exec.LookPath("fluidsynth"); err != nil {
		needTool(t, "DLRUN_REQUIRE_FLUIDSYNTH", "FluidSynth ("+synthPackages+")")
	}
	if _, err := os.Stat(DefaultSoundFont); err != nil {
		needTool(t, "DLRUN_REQUIRE_FLUIDSYNTH", "the General MIDI soundfont ("+synthPackages+")")
	}
	path := filepath.Join(t.TempDir(), "c.wav")
	r := chorale(t, Quarter) // 8 quarter notes at 72 a minute: 6.67 s
	if err := RenderWAV(context.Background(), r, path, WAVOptions{SampleRate: 22050}); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(b[:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		t.Fatalf("not a WAV file: % x", b[:12])
	}
	channels := binary.LittleEndian.Uint16(b[22:24])
	rate := binary.LittleEndian.Uint32(b[24:28])
	bits := binary.LittleEndian.Uint16(b[34:36])
	seconds := float64(len(b)-44) / float64(rate) / float64(channels) / float64(bits/8)
	if channels != 2 || rate != 22050 || bits != 16 || seconds < 6.6 || seconds > 10 {
		t.Errorf("%d channels, %d Hz, %d bits, %.2f s; want 2, 22050, 16 and the roll's 6.67 s plus the notes' release (FluidSynth renders until every voice is silent)", channels, rate, bits, seconds)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v", fi.Mode())
	}
	silent := true
	for i := 44; i+1 < len(b); i += 2 {
		if b[i] != 0 || b[i+1] != 0 {
			silent = false
			break
		}
	}
	if silent {
		t.Error("the rendering is silent")
	}
}

func TestRenderWAVFailures(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "keep.wav")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := chorale(t, Quarter)
	ctx := context.Background()

	err := RenderWAV(ctx, r, path, WAVOptions{Synth: "no-such-fluidsynth"})
	if !errors.Is(err, ErrNoSynth) || !strings.Contains(err.Error(), "apt-get install fluidsynth fluid-soundfont-gm") || strings.Contains(err.Error(), "\n") {
		t.Errorf("no synthesizer: %v", err)
	}
	fake := func(name, script string) string {
		p := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"+script+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	font := filepath.Join(dir, "font.sf2")
	os.WriteFile(font, []byte("sf2"), 0o644)
	if err := RenderWAV(ctx, r, path, WAVOptions{Synth: fake("fs", "exit 0"), SoundFont: filepath.Join(dir, "none.sf2")}); !errors.Is(err, ErrNoSynth) || !strings.Contains(err.Error(), "none.sf2") {
		t.Errorf("no soundfont: %v", err)
	}
	start := time.Now()
	err = RenderWAV(ctx, r, path, WAVOptions{Synth: fake("slow", "exec sleep 30"), SoundFont: font, Timeout: 300 * time.Millisecond})
	if err == nil || !strings.Contains(err.Error(), "did not finish within 300ms") || time.Since(start) > 10*time.Second {
		t.Errorf("a synthesizer that hangs: %v after %v", err, time.Since(start))
	}
	err = RenderWAV(ctx, r, path, WAVOptions{Synth: fake("fails", "echo 'fluidsynth: error: bad font' >&2; exit 1"), SoundFont: font})
	if err == nil || !strings.Contains(err.Error(), "bad font") || strings.Contains(err.Error(), "\n") {
		t.Errorf("a synthesizer that fails: %v", err)
	}
	err = RenderWAV(ctx, r, path, WAVOptions{Synth: fake("nowav", "exit 0"), SoundFont: font})
	if err == nil || !strings.Contains(err.Error(), "wrote no WAV file") {
		t.Errorf("a synthesizer that writes nothing: %v", err)
	}
	for _, o := range []WAVOptions{{SampleRate: 100}, {Gain: -1}, {WriteOptions: WriteOptions{Velocity: 300}}} {
		o.Synth, o.SoundFont = fake("fs", "exit 0"), font
		if err := RenderWAV(ctx, r, path, o); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("%+v: %v", o, err)
		}
	}
	if b, _ := os.ReadFile(path); string(b) != "old" {
		t.Error("a failed rendering changed the destination")
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 2 {
		t.Errorf("the folder holds %d files, want keep.wav and font.sf2", len(entries))
	}
}
