package run

import (
	"fmt"

	"github.com/dlrun/dlrun/nn"
	"github.com/dlrun/dlrun/train"
	"github.com/pkg/errors"
)

// This file holds data-parallel training's followers: the ranks other
// than 0 (Options.Collective), which train the same model on their share
// of every batch and write nothing.

// trainConfig returns the loop's configuration of a run of cfg.
func trainConfig(cfg Config, opts Options) train.Config {
	tc := cfg.Config
	if cfg.Task == Rating && !IsModelFile(cfg.Model) {
		tc.WeightDecay = 0 // the reference recommenders apply it to the rows of each batch (nn.Options.L2)
	}
	tc.Collective = opts.Collective
	return tc
}

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

// follow trains as a follower the new run of cfg (resolved) that rank 0
// trains: the same data, model and task, no folder and no log.
func follow(cfg Config, opts Options) error {
	d, err := data(&cfg, opts)
	if err != nil {
		return err
	}
	fitBatch(&cfg, d)
	model, task, err := build(&cfg, d)
	if err != nil {
		return err
	}
	return followFit(cfg, d, model, task, opts)
}

// followResume is Resume for a follower: the configuration and model of
// run folder dir, read and never written; the checkpoint comes from rank
// 0 when training starts.
func followResume(dir string, epochs int, opts Options) error {
	cfg, err := ReadConfig(dir)
	if err != nil {
		return err
	}
	if epochs > 0 {
		cfg.Epochs = epochs
	}
	if err := cfg.resolve(false); err != nil {
		return errors.Wrapf(err, "run folder %s: config.json", dir)
	}
	d, err := data(cfg, opts)
	if err != nil {
		return errors.Wrapf(err, "run folder %s: its dataset", dir)
	}
	fitBatch(cfg, d)
	info, err := train.ReadInfo(dir)
	if err != nil {
		return err
	}
	model, err := info.Model.Build()
	if err != nil {
		return errors.Wrapf(err, "run folder %s: model.json", dir)
	}
	task, err := newTask(cfg, model, d, info.Outputs)
	if err != nil {
		return err
	}
	return followFit(*cfg, d, model, task, opts)
}

// followFit trains model for task on d as a follower, once rank 0 says
// to (it may not: a resumed run that had finished).
func followFit(cfg Config, d *Data, model *nn.Sequential, task train.Task, opts Options) error {
	t, err := train.New(model, task, trainConfig(cfg, opts))
	if err != nil {
		return err
	}
	defer t.Close()
	on, err := awaitProceed(opts.Collective)
	if err != nil || !on {
		return err
	}
	_, err = t.Fit(d.Train, d.Test, func(s train.EpochStats) error {
		return checkFinite(s, t.Graph())
	})
	if err != nil {
		return fmt.Errorf("training stopped: %w", err)
	}
	return nil
}
