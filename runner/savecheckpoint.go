package runner

import "github.com/dlrun/dlrun/train"

// saveCheckpoint writes a trainer's checkpoint: train's, through a
// variable so that the package's tests can make the write fail as a full
// disk would.
var saveCheckpoint = (*train.Trainer).SaveCheckpoint
