package runner

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/dlrun/dlrun/internal/atomicfile"
	"github.com/dlrun/dlrun/run"
)

// maxSameName bounds the folders of one default name that defaultFolder
// tries: runs/<model>-<timestamp> and its suffixes -2 to -1000.
const maxSameName = 1000

// defaultFolder makes the folder of a new run given no --out:
// runs/<model>-<timestamp> (the model's name, or a model file's base name
// without its extension; the start to the second), or, when that exists
// already (another run started in the same second, in this process or
// another), the first of <name>-2, <name>-3, ... that does not. Each is
// made with one mkdir, which fails if the folder exists, so two runs
// never share one. made is the topmost folder made (runs/ itself when it
// was new).
func defaultFolder(model string, start time.Time) (dir, made string, err error) {
	name := model
	if run.IsModelFile(model) {
		name = trimExt(filepath.Base(model))
	}
	parent, err := atomicfile.MkdirAll("runs", 0o755)
	if err != nil {
		return "", "", err
	}
	base := filepath.Join("runs", fmt.Sprintf("%s-%s", name, start.Format("20060102-150405")))
	for i := 1; i <= maxSameName; i++ {
		dir = base
		if i > 1 {
			dir = fmt.Sprintf("%s-%d", base, i)
		}
		err := os.Mkdir(dir, 0o755)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return "", "", fmt.Errorf("creating %s: %w", dir, err)
		}
		if parent != "" {
			return dir, parent, nil
		}
		return dir, dir, nil
	}
	return "", "", fmt.Errorf("%s: it and %d more folders of that name exist already: give the run a folder with --out", base, maxSameName-1)
}

// trimExt returns name without its extension.
func trimExt(name string) string { return name[:len(name)-len(filepath.Ext(name))] }
