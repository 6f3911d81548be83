package run

import "github.com/dlrun/dlrun/train"

func init() { Register(PPO) }

// PPO is the kind of run of the ppo agent: proximal policy optimisation
// (rl.PPO) learning CartPole, or Connect4 by self-play. Its model is the
// policy network: an observation in, each action's logit out; its
// learning rate falls linearly to 0 over the budget unless lr_schedule
// says otherwise.
var PPO AgentKind = &agent{
	name:        "ppo",
	description: "proximal policy optimisation: clipped objective, GAE, value network, entropy bonus; connect4 by self-play",
	games:       map[string]int{"cartpole": 100_000, "connect4": 6_500_000},
	game:        "cartpole",
	recipe:      train.Config{Schedule: "linear"},
	outputs:     LogitsName,
	loss:        "cce",
}
