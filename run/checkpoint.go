package run

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"github.com/dlrun/dlrun/internal/safeio"
	"github.com/dlrun/dlrun/train"
	"github.com/pkg/errors"
)

// maxCheckpointHeader bounds the JSON header of a checkpoint that
// checkpointEpoch reads: the tensors' names and offsets and the metrics
// history, a few hundred bytes an epoch.
const maxCheckpointHeader = 64 << 20

// checkpointEpoch returns the epoch that the checkpoint at path holds, as
// its safetensors metadata says, reading only its header.
func checkpointEpoch(path string) (int, error) {
	f, err := safeio.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	var n [8]byte
	if _, err := io.ReadFull(f, n[:]); err != nil {
		return 0, errors.Errorf("%s: not a checkpoint (%s)", path, plural(int(fi.Size()), "byte"))
	}
	size := binary.LittleEndian.Uint64(n[:])
	if size > maxCheckpointHeader || size > uint64(fi.Size()-8) {
		return 0, errors.Errorf("%s: not a checkpoint (a header of %d bytes, more than the file or the %d bytes a checkpoint header may hold)", path, size, maxCheckpointHeader)
	}
	hdr := make([]byte, size)
	if _, err := io.ReadFull(f, hdr); err != nil {
		return 0, errors.Wrapf(err, "%s", path)
	}
	var h struct {
		Meta map[string]string `json:"__metadata__"`
	}
	if err := json.Unmarshal(hdr, &h); err != nil || h.Meta["format"] != train.CheckpointFormat {
		return 0, errors.Errorf("%s: not a dlrun checkpoint", path)
	}
	e, err := strconv.Atoi(h.Meta["epoch"])
	if err != nil || e < 0 {
		return 0, errors.Errorf("%s: bad epoch %q", path, h.Meta["epoch"])
	}
	return e, nil
}

// lastGood says what a run that stopped left to resume from: the
// checkpoint in dir and the epoch it holds, read from the file itself,
// or that there is none.
func lastGood(dir string) string {
	path := filepath.Join(dir, checkpointFile)
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		return "no checkpoint was written"
	}
	e, err := checkpointEpoch(path)
	if err != nil {
		return fmt.Sprintf("no checkpoint can be read (%v)", err)
	}
	return fmt.Sprintf("the last good checkpoint is %s (epoch %d)", path, e)
}

// saveCheckpoint writes a trainer's checkpoint: train's, through a
// variable so that the package's tests can make the write fail as a full
// disk would.
var saveCheckpoint = (*train.Trainer).SaveCheckpoint
