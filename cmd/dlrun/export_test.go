package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestExportCommand exports a trained run to the default and a given
// file, and checks the refusals: no --run, a folder that is not a run, an
// output in a missing folder (no file left anywhere), arguments.
func TestExportCommand(t *testing.T) {
	dir := t.TempDir()
	runDir := filepath.Join(dir, "xor")
	if _, err := dlrun(t, "train", "--model", "xor", "--epochs", "2", "--out", runDir); err != nil {
		t.Fatal(err)
	}
	out, err := dlrun(t, "export", "--run", runDir)
	if err != nil {
		t.Fatal(err)
	}
	def := filepath.Join(runDir, "model.onnx")
	if !strings.Contains(out, "wrote "+def) {
		t.Errorf("output %q does not name %s", out, def)
	}
	b, err := os.ReadFile(def)
	if err != nil {
		t.Fatal(err)
	}
	// An ONNX model is a protobuf: field 1 (ir_version), varint 8.
	if !bytes.HasPrefix(b, []byte{0x08, 0x08}) || !bytes.Contains(b, []byte("dlrun_version")) {
		t.Errorf("%s does not look like dlrun's ONNX model (%d bytes)", def, len(b))
	}
	named := filepath.Join(dir, "x.onnx")
	if _, err := dlrun(t, "export", "--run", runDir, "--best", "-o", named); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(named); err != nil {
		t.Error(err)
	}
	_, err = dlrun(t, "export")
	oneLineError(t, "export without --run", err, "--run")
	_, err = dlrun(t, "export", "--run", dir)
	oneLineError(t, "export of a folder that is no run", err, "--run", dir)
	missing := filepath.Join(dir, "no", "such", "dir", "m.onnx")
	_, err = dlrun(t, "export", "--run", runDir, "-o", missing)
	oneLineError(t, "export into a missing folder", err, "--out", "does not exist")
	if _, err := os.Stat(filepath.Dir(missing)); !os.IsNotExist(err) {
		t.Errorf("export made %s", filepath.Dir(missing))
	}
	_, err = dlrun(t, "export", "--run", runDir, "extra")
	oneLineError(t, "export with an argument", err, "extra")
}
