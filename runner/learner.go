package runner

import (
	"github.com/dlrun/dlrun/run"
	"github.com/dlrun/dlrun/train"
	"github.com/pkg/errors"
)

// newLearner makes the learner of a run of c (resolved) of kind k: train's
// loop for a supervised kind, an rl agent for an agent's. info is a
// resumed run's model.json (nil: a new model). A follower of data-parallel
// training trains here, and gets a nil learner.
func newLearner(k run.Kind, c *run.Config, opts Options, info *train.ModelInfo) (learner, error) {
	switch k := k.(type) {
	case run.SupervisedKind:
		s, err := newSupervised(k, c, opts, info)
		if err != nil {
			return nil, err
		}
		if opts.Follower() {
			defer s.close()
			return nil, s.follow()
		}
		return s, nil
	case run.AgentKind:
		a, err := newAgentLearner(k, c, opts)
		if err != nil {
			return nil, err
		}
		return a, nil
	}
	return nil, errors.Errorf("kind %s trains neither on a dataset nor as an agent", k.Name())
}

// budgetOf sets the budget of the run of c to opts': its epochs, or an
// agent's environment steps, where set. The other's is an error.
func budgetOf(c *run.Config, opts Options) error {
	if c.Agent != nil {
		if opts.Epochs != 0 {
			return errors.Errorf("epochs %d does not apply to agent %s: its budget is its environment steps (--steps)", opts.Epochs, c.Model)
		}
		if opts.Steps != 0 {
			c.Agent.Steps = opts.Steps
		}
		return nil
	}
	if opts.Steps != 0 {
		return errors.Errorf("steps %d does not apply to model %s: it is a %s model, whose budget is its epochs (--epochs)", opts.Steps, c.Model, c.Task)
	}
	if opts.Epochs != 0 {
		c.Epochs = opts.Epochs
	}
	return nil
}
