package runner

import (
	"github.com/dlrun/dlrun/train"
	"github.com/pkg/errors"
)

// This file holds what rank 0 of data-parallel training tells its
// followers, the ranks other than 0 (Options.Collective), which train the
// same model on their share of every batch and write nothing
// (supervised.follow).

// proceed tells the followers, from rank 0, whether training goes on (a
// resumed run that had finished does not); each follower waits for it
// (awaitProceed) before its first epoch. Without a Collective of several
// processes it does nothing.
func proceed(c train.Collective, on bool) error {
	if c == nil || c.Size() == 1 {
		return nil
	}
	b := []byte{0}
	if on {
		b[0] = 1
	}
	return errors.Wrap(c.Broadcast(b, 0), "telling the other processes whether to train")
}

// awaitProceed returns what rank 0's proceed said.
func awaitProceed(c train.Collective) (bool, error) {
	b := []byte{0}
	if err := c.Broadcast(b, 0); err != nil {
		return false, errors.Wrap(err, "waiting for rank 0")
	}
	return b[0] == 1, nil
}
