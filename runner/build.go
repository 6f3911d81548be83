package runner

import (
	"github.com/dlrun/dlrun/env"
	"github.com/dlrun/dlrun/nn"
	"github.com/dlrun/dlrun/rl"
	"github.com/dlrun/dlrun/run"
	"github.com/dlrun/dlrun/train"
	"github.com/pkg/errors"
)

// BuildModel builds the model cfg names without training it, and returns
// it with its per-example input shape, for summaries and parameter counts:
// a supervised kind's network for its dataset (whose shape, classes or
// vocabulary size it), refused where training would refuse it (a model
// file whose outputs are not the dataset's classes or vocabulary), an
// agent's acting network for its game.
func BuildModel(cfg run.Config) (*nn.Sequential, []int, error) {
	if err := cfg.Resolve(); err != nil {
		return nil, nil, err
	}
	k, err := cfg.Kind()
	if err != nil {
		return nil, nil, err
	}
	switch k := k.(type) {
	case run.SupervisedKind:
		d, err := k.Data(&cfg)
		if err != nil {
			return nil, nil, errors.Wrap(err, "dataset")
		}
		k.FitBatch(&cfg, d)
		model, task, err := k.Build(&cfg, d)
		if err != nil {
			return nil, nil, err
		}
		// The task's checks of the model against the data, as training
		// makes them: a model file's outputs against the vocabulary.
		if _, err := train.EstimateMemory(model, task, k.Loop(&cfg)); err != nil {
			return nil, nil, err
		}
		return model, task.InputShape(), nil
	case run.AgentKind:
		e, err := env.New(cfg.Agent.Env)
		if err != nil {
			return nil, nil, err
		}
		a, err := rl.New(k.Name(), e, rl.Options{LearningRate: cfg.LearningRate}, cfg.Seed)
		if err != nil {
			return nil, nil, err
		}
		defer a.Close()
		model, err := a.Network().Build()
		return model, e.ObservationShape(), err
	}
	return nil, nil, errors.Errorf("kind %s builds no model", k.Name())
}
