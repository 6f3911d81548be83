package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/dlrun/dlrun/internal/atomicfile/atomicfiletest"
)

// needFFmpeg skips a test where ffmpeg is missing, unless the
// environment requires it (DLRUN_REQUIRE_FFMPEG, as .ci/run sets).
func needFFmpeg(t *testing.T) {
	t.Helper()
	for _, p := range []string{"ffmpeg", "ffprobe"} {
		if _, err := exec.LookPath(p); err != nil {
			if os.Getenv("DLRUN_REQUIRE_FFMPEG") != "" {
				t.Fatalf("%s is required (DLRUN_REQUIRE_FFMPEG is set): %v", p, err)
			}
			t.Skipf("cmd/dlrun: %s not installed (Debian's ffmpeg package)", p)
		}
	}
}

// threeShotClip makes a 6 s clip at 25 fps of three of ffmpeg's sources
// joined by hard cuts at 2 s and 4 s, with sound.
func threeShotClip(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "three.mp4")
	cmd := exec.Command("ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
		"testsrc2=s=160x90:r=25:d=2,format=yuv420p[a];"+
			"mandelbrot=s=160x90:r=25,trim=duration=2,setpts=PTS-STARTPTS,format=yuv420p[b];"+
			"smptehdbars=s=160x90:r=25:d=2,format=yuv420p[c];[a][b][c]concat=n=3[out0]",
		"-f", "lavfi", "-i", "sine=frequency=440:duration=6",
		"-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac", "-shortest", path)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v: %s", err, out)
	}
	return path
}

// The content method finds the two cuts of a three-shot clip, prints the
// scenes and writes every output: the scene list as CSV, JSON and EDL, a
// contact sheet, a file per scene and a summary edit ffprobe reads back
// with its expected duration.
func TestCutsContentOutputs(t *testing.T) {
	if testing.Short() {
		t.Skip("builds dlrun")
	}
	needFFmpeg(t)
	dir := t.TempDir()
	clip := threeShotClip(t, dir)
	out := func(name string) string { return filepath.Join(dir, name) }
	stdout, stderr, ok := runBinary(t, "cuts", clip, "--method", "content", "-o", out("s.csv"), "-o", out("s.json"), "-o", out("s.edl"),
		"--thumbs", out("sheet.png"), "--split", out("scenes"), "--summary", "2", "-o", out("short.mp4"))
	if !ok {
		t.Fatalf("cuts: %s", stderr)
	}
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	if len(lines) < 4 || !strings.HasPrefix(lines[0], "scene") || !strings.Contains(lines[2], "00:00:02.000") || !strings.Contains(lines[3], "00:00:04.000") {
		t.Fatalf("printed\n%s", stdout)
	}
	b, err := os.ReadFile(out("s.csv"))
	if err != nil {
		t.Fatal(err)
	}
	r := csv.NewReader(bytes.NewReader(b))
	r.FieldsPerRecord = -1 // the time code list first, then the scenes
	rows, err := r.ReadAll()
	if err != nil || len(rows) != 5 || rows[1][0] != "Scene Number" || rows[3][1] != "51" {
		t.Errorf("scene list CSV (%v):\n%s", err, b)
	}
	var doc struct {
		Scenes []struct {
			StartFrame int `json:"start_frame"`
		} `json:"scenes"`
	}
	if b, err = os.ReadFile(out("s.json")); err != nil || json.Unmarshal(b, &doc) != nil || len(doc.Scenes) != 3 || doc.Scenes[2].StartFrame != 100 {
		t.Errorf("scene list JSON (%v):\n%s", err, b)
	}
	if b, err = os.ReadFile(out("s.edl")); err != nil || !strings.HasPrefix(string(b), "TITLE: three") || !strings.Contains(string(b), "003  AX") {
		t.Errorf("EDL (%v):\n%s", err, b)
	}
	if fi, err := os.Stat(out("sheet.png")); err != nil || fi.Size() == 0 {
		t.Errorf("contact sheet: %v", err)
	}
	if files, _ := filepath.Glob(filepath.Join(out("scenes"), "three-Scene-*.mp4")); len(files) != 3 {
		t.Errorf("split into %v", files)
	}
	probe, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", out("short.mp4")).Output()
	if err != nil {
		t.Fatal(err)
	}
	if d, err := strconv.ParseFloat(strings.TrimSpace(string(probe)), 64); err != nil || d < 3.9 || d > 4.2 {
		t.Errorf("summary of 2 shots of 2 s lasts %s", probe)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("left %s", e.Name())
		}
	}
}

// Hostile input, bad flags and destinations the one rule for outputs
// refuses are one line each, and leave what is there as it was; a pipe
// that never ends stops at --max-duration.
func TestCutsRefuses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds dlrun")
	}
	needFFmpeg(t)
	dir := t.TempDir()
	clip := threeShotClip(t, dir)
	empty := filepath.Join(dir, "empty.mp4")
	os.WriteFile(empty, nil, 0o644)
	text := filepath.Join(dir, "text.mp4")
	os.WriteFile(text, []byte("not a video\n"), 0o644)
	corrupt := filepath.Join(dir, "corrupt.mp4")
	b, _ := os.ReadFile(clip)
	os.WriteFile(corrupt, b[:len(b)/3], 0o644)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{filepath.Join(dir, "none.mp4")}, "no such file"},
		{[]string{empty}, "empty video"},
		{[]string{text}, "not a video"},
		{[]string{"--method", "content", "-o", filepath.Join(dir, "x.txt"), clip}, "-o"},
		{[]string{"--method", "sharp", clip}, "--method"},
		{[]string{"--summary", "2", clip}, "--summary 2"},
		{[]string{"-o", filepath.Join(dir, "x.mp4"), clip}, "--summary N"},
		{[]string{"--threshold", "30", clip}, "--method content"},
		{[]string{"--method", "content", "--run", dir, clip}, "--run"},
		{[]string{"--run", dir, clip}, "--run"},
		{[]string{"--thumbs", filepath.Join(dir, "sheet.jpg"), clip}, "PNG"},
		{[]string{"--max-duration", "-1", clip}, "max-duration"},
		{[]string{"-", "--split", filepath.Join(dir, "s")}, "standard input"},
		{[]string{"-o", filepath.Join(dir, "nofolder", "s.csv"), clip}, "does not exist"},
	} {
		_, stderr, ok := runBinary(t, append([]string{"cuts"}, c.args...)...)
		if ok || !strings.Contains(stderr, c.want) || strings.Count(stderr, "\n") != 1 {
			t.Errorf("cuts %v: ok %v, stderr %q, want one line with %q", c.args, ok, stderr, c.want)
		}
	}
	// A corrupt file is refused in one line, or decoded as far as it goes.
	if _, stderr, ok := runBinary(t, "cuts", "--method", "content", corrupt); !ok && strings.Count(stderr, "\n") != 1 {
		t.Errorf("corrupt file: %q", stderr)
	}
	// A 10,000×10,000 stream.
	huge := filepath.Join(dir, "huge.mkv")
	if o, err := exec.Command("ffmpeg", "-nostdin", "-loglevel", "error", "-f", "lavfi", "-i", "color=c=red:s=10000x10000:d=0.04", "-frames:v", "1", "-c:v", "ffv1", huge).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: %v: %s", err, o)
	}
	if _, stderr, ok := runBinary(t, "cuts", "--method", "content", huge); ok || !strings.Contains(stderr, "too large") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("10000x10000: %q", stderr)
	}
	// Destinations the rule refuses.
	for i, n := range atomicfiletest.Make(t.TempDir()) {
		if n.Reason != "" || n.Folder {
			continue
		}
		// The scene list is named by its extension: a link so named leads
		// to the node.
		link := filepath.Join(t.TempDir(), fmt.Sprintf("%d.csv", i))
		if err := os.Symlink(n.Path, link); err != nil {
			t.Fatal(err)
		}
		_, stderr, ok := runBinary(t, "cuts", "--method", "content", "-o", link, clip)
		if ok || !strings.Contains(stderr, "--out") || strings.Count(stderr, "\n") != 1 {
			t.Errorf("%s: ok %v, %q", n.Name, ok, stderr)
		}
		if err := n.Unchanged(); err != nil {
			t.Errorf("%s: %v", n.Name, err)
		}
	}
	// A pipe that never ends.
	ff := exec.Command("ffmpeg", "-nostdin", "-loglevel", "error", "-re", "-f", "lavfi", "-i", "testsrc2=s=96x54:r=25", "-c:v", "ffv1", "-f", "matroska", "-")
	dl := exec.Command(buildDlrun(t), "cuts", "--method", "content", "--max-duration", "1", "-")
	pipe, err := ff.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	dl.Stdin = pipe
	var so, se bytes.Buffer
	dl.Stdout, dl.Stderr = &so, &se
	if err := ff.Start(); err != nil {
		t.Fatal(err)
	}
	err = dl.Run()
	ff.Process.Kill()
	ff.Wait()
	if err != nil || !strings.Contains(so.String(), "stopped at --max-duration: 25 frames") {
		t.Errorf("endless pipe: %v\n%s%s", err, so.String(), se.String())
	}
}

// Without --run, the bundled detector finds the clip's two cuts, with the
// deblocking filter and without it (--fast); a run of another kind is
// refused in one line.
func TestCutsLearned(t *testing.T) {
	if testing.Short() {
		t.Skip("builds dlrun")
	}
	needFFmpeg(t)
	dir := t.TempDir()
	clip := threeShotClip(t, dir)
	list := filepath.Join(dir, "s.json")
	var doc struct {
		Scenes []struct {
			StartFrame int `json:"start_frame"`
		} `json:"scenes"`
	}
	for _, fast := range []bool{false, true} {
		args := []string{"cuts", clip, "-o", list}
		if fast {
			args = append(args, "--fast")
		}
		if _, stderr, ok := runBinary(t, args...); !ok {
			t.Fatalf("cuts: %s", stderr)
		}
		b, err := os.ReadFile(list)
		if err != nil || json.Unmarshal(b, &doc) != nil || len(doc.Scenes) != 3 || doc.Scenes[1].StartFrame != 50 || doc.Scenes[2].StartFrame != 100 {
			t.Errorf("bundled detector's scenes, fast %v (%v):\n%s", fast, err, b)
		}
	}
	xor := filepath.Join(dir, "xor")
	if _, stderr, ok := runBinary(t, "train", "--model", "xor", "--epochs", "1", "--out", xor); !ok {
		t.Fatalf("train: %s", stderr)
	}
	if _, stderr, ok := runBinary(t, "cuts", clip, "--run", xor); ok || !strings.Contains(stderr, "does not apply to a classify run") || strings.Count(stderr, "\n") != 1 {
		t.Errorf("cuts --run of a classifier: %q", stderr)
	}
}
