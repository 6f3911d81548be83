package runner

import (
	"github.com/dlrun/dlrun/run"
	"github.com/dlrun/dlrun/train"
	"github.com/pkg/errors"
)

var (
	_ learner = (*supervised)(nil)
	_ learner = (*agentLearner)(nil)
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
