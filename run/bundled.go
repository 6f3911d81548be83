package run

import (
	"embed"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/pkg/errors"
)

// bundledShots is the shot detector dlrun carries: the run folder that
// `dlrun run experiments/shots.yaml` makes for seed 1 (its config.json,
// model.json, weights, metrics.csv and summary.json), bit for bit.
//
//go:embed bundled/shots
var bundledShots embed.FS

// BundledShotsDir is where the bundled shot detector's files lie in
// dlrun's source tree.
const BundledShotsDir = "run/bundled/shots"

// BundledShotsFiles returns the bundled shot detector's run folder, its
// files by name, for reading (a test checks them against their record in
// docs/results.md).
func BundledShotsFiles() fs.FS {
	sub, err := fs.Sub(bundledShots, "bundled/shots")
	if err != nil {
		panic(err) // the embedded folder is there
	}
	return sub
}

// OpenBundledShots opens the shot detector bundled in dlrun, as Open
// opens a run folder (its last weights): what `dlrun cuts` uses without
// --run. Its Dir is "bundled".
func OpenBundledShots() (*Run, error) {
	dir, err := os.MkdirTemp("", "dlrun-bundled-shots-")
	if err != nil {
		return nil, errors.Wrap(err, "opening the bundled shot detector")
	}
	defer os.RemoveAll(dir)
	files := BundledShotsFiles()
	names, err := fs.Glob(files, "*")
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		b, err := fs.ReadFile(files, n)
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, n), b, 0o600)
		}
		if err != nil {
			return nil, errors.Wrap(err, "opening the bundled shot detector")
		}
	}
	r, err := Open(dir, false)
	if err != nil {
		return nil, errors.Wrap(err, "opening the bundled shot detector")
	}
	r.Dir, r.Weights = "bundled", filepath.Join(BundledShotsDir, "model.safetensors")
	return r, nil
}
