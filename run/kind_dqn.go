package run

func init() { Register(DQN) }

// DQN is the kind of run of the dqn agent: a deep Q-network (rl.DQN)
// learning CartPole. Its model is the Q-network: an observation in, the
// value of each action out.
var DQN AgentKind = &agent{
	name:        "dqn",
	description: "deep Q-network: replay buffer, target network, epsilon-greedy, Huber loss, double DQN (--env, --steps)",
	games:       map[string]int{"cartpole": 50_000},
	game:        "cartpole",
	outputs:     QValuesName,
	loss:        "mse",
}
