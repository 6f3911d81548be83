#!/usr/bin/env python3
"""PyTorch reference agents for dlrun's rl package: DQN and PPO on CartPole-v1, and PPO
self-play on Connect4.

The same algorithms and hyperparameters as dlrun's rl.DQN and rl.PPO (which
take Stable-Baselines3's tuned CartPole-v1 settings), written plainly in
PyTorch 1.13 (Debian's python3-torch) with the CartPole-v1 physics of
Gymnasium's cartpole.py (Gymnasium is not packaged in Debian), so that the
throughput of the two, environment steps per second with training included,
compares like for like:

    python3 bench/rl_ref.py --agent dqn --steps 50000
    python3 bench/rl_ref.py --agent ppo --steps 100000
    python3 bench/rl_ref.py --agent ppo --env connect4 --steps 100000

On a CPU with AVX-512, set OPENBLAS_CORETYPE=SkylakeX as the Go benches do
(internal/torchref); never elsewhere, where it dies with SIGILL.

It prints one JSON line: agent, steps, seconds (training), steps_per_sec,
and mean_return over 100 greedy evaluation episodes.

With --env connect4 (PPO only) it runs dlrun's rl.PPO self-play (rl/selfplay.go):
64 games in lockstep, rollouts of 32 moves of each, half the games against a
past self drawn from a pool of snapshots, random openings, zero-sum GAE, conv
policy and value networks; a step is a move of either side, and steps counts
the moves played (whole rollouts of 2048). Its JSON line has agent, env, steps,
seconds, steps_per_sec and score_vs_random: the greedy policy's score (win 1,
draw 0.5) over 100 games against a uniformly random player, first in half.
"""
import argparse
import json
import math
import sys
import time

import numpy as np
import torch
import torch.nn as nn


class CartPole:
    """Gymnasium's CartPole-v1: Euler steps of 0.02 s, force 10 N, pole half-length 0.5,
    failure past 12 degrees or 2.4 units, truncation at 500 steps, reward 1 per step."""

    def __init__(self):
        self.g, self.mc, self.mp, self.l, self.f, self.tau = 9.8, 1.0, 0.1, 0.5, 10.0, 0.02
        self.total = self.mc + self.mp
        self.pml = self.mp * self.l
        self.theta_max = 12 * 2 * math.pi / 360

    def reset(self, rng):
        self.s = list(rng.uniform(-0.05, 0.05, 4))
        self.t = 0
        return np.array(self.s, dtype=np.float32)

    def step(self, a):
        x, xd, th, thd = self.s
        force = self.f if a == 1 else -self.f
        c, s = math.cos(th), math.sin(th)
        temp = (force + self.pml * thd * thd * s) / self.total
        thacc = (self.g * s - c * temp) / (self.l * (4.0 / 3.0 - self.mp * c * c / self.total))
        xacc = temp - self.pml * thacc * c / self.total
        x, xd = x + self.tau * xd, xd + self.tau * xacc
        th, thd = th + self.tau * thd, thd + self.tau * thacc
        self.s = [x, xd, th, thd]
        self.t += 1
        term = x < -2.4 or x > 2.4 or th < -self.theta_max or th > self.theta_max
        trunc = self.t >= 500 and not term
        return np.array(self.s, dtype=np.float32), 1.0, term, trunc


def mlp(sizes, act):
    layers = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(act())
    return nn.Sequential(*layers)


def dqn(steps, seed):
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    q, target = mlp([4, 256, 256, 2], nn.ReLU), mlp([4, 256, 256, 2], nn.ReLU)
    target.load_state_dict(q.state_dict())
    opt = torch.optim.Adam(q.parameters(), lr=2.3e-3)
    cap, batch, start, gamma = 100000, 64, 1000, 0.99
    S, A, R, S2, D = np.zeros((cap, 4), np.float32), np.zeros(cap, np.int64), np.zeros(cap, np.float32), np.zeros((cap, 4), np.float32), np.zeros(cap, np.float32)
    n = pos = 0
    env = CartPole()
    obs = env.reset(rng)
    for t in range(steps):
        eps = max(0.04, 1 + (0.04 - 1) * t / (0.16 * steps))
        if rng.random() < eps:
            a = int(rng.integers(2))
        else:
            with torch.no_grad():
                a = int(q(torch.from_numpy(obs)[None]).argmax())
        o2, r, term, trunc = env.step(a)
        S[pos], A[pos], R[pos], S2[pos], D[pos] = obs, a, r, o2, float(term)
        pos, n = (pos + 1) % cap, min(n + 1, cap)
        obs = env.reset(rng) if term or trunc else o2
        if t + 1 > start and (t + 1) % 256 == 0:
            for _ in range(128):
                i = rng.integers(n, size=batch)
                s, a_, r_, s2, d = (torch.from_numpy(v[i]) for v in (S, A, R, S2, D))
                with torch.no_grad():
                    best = q(s2).argmax(1, keepdim=True)
                    y = r_ + gamma * (1 - d) * target(s2).gather(1, best).squeeze(1)
                pred = q(s).gather(1, a_[:, None]).squeeze(1)
                loss = nn.functional.smooth_l1_loss(pred, y)
                opt.zero_grad()
                loss.backward()
                nn.utils.clip_grad_norm_(q.parameters(), 10)
                opt.step()
        if (t + 1) % 10 == 0:
            target.load_state_dict(q.state_dict())
    return lambda o: int(q(torch.from_numpy(o)[None]).argmax())


def anneal(opts, lr0, clip0, frac):
    """PPO's linear schedules, as dlrun's: sets each optimizer's learning rate
    to lr0*frac and returns the clip range clip0*frac."""
    for o in opts:
        for g in o.param_groups:
            g["lr"] = lr0 * frac
    return clip0 * frac


def ppo(steps, seed):
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    pi, v = mlp([4, 64, 64, 2], nn.Tanh), mlp([4, 64, 64, 1], nn.Tanh)
    lr0, clip0 = 1e-3, 0.2
    opt_pi, opt_v = torch.optim.Adam(pi.parameters(), lr=lr0), torch.optim.Adam(v.parameters(), lr=lr0)
    N, T, B, epochs, gamma, lam = 8, 32, 256, 20, 0.98, 0.8
    envs = [CartPole() for _ in range(N)]
    obs = np.stack([e.reset(rng) for e in envs])
    done_steps = 0
    while done_steps < steps:
        clip = anneal((opt_pi, opt_v), lr0, clip0, 1 - done_steps / steps)
        O, Aa, LP, V, Rw, Dn = np.zeros((T, N, 4), np.float32), np.zeros((T, N), np.int64), np.zeros((T, N), np.float32), np.zeros((T, N), np.float32), np.zeros((T, N), np.float32), np.zeros((T, N), np.float32)
        for t in range(T):
            with torch.no_grad():
                ob = torch.from_numpy(obs)
                logits, val = pi(ob), v(ob).squeeze(1)
                dist = torch.distributions.Categorical(logits=logits)
                a = dist.sample()
                lp = dist.log_prob(a)
            O[t], Aa[t], LP[t], V[t] = obs, a.numpy(), lp.numpy(), val.numpy()
            for k, e in enumerate(envs):
                o2, r, term, trunc = e.step(int(a[k]))
                if trunc:
                    with torch.no_grad():
                        r += gamma * float(v(torch.from_numpy(o2)[None]))
                Rw[t, k], Dn[t, k] = r, float(term or trunc)
                obs[k] = e.reset(rng) if term or trunc else o2
            done_steps += N
        with torch.no_grad():
            last = v(torch.from_numpy(obs)).squeeze(1).numpy()
        adv, gae, nv = np.zeros((T, N), np.float32), np.zeros(N, np.float32), last
        for t in reversed(range(T)):
            nv = np.where(Dn[t] > 0, 0.0, nv)
            gae = np.where(Dn[t] > 0, 0.0, gae)
            delta = Rw[t] + gamma * nv - V[t]
            gae = delta + gamma * lam * gae
            adv[t], nv = gae, V[t]
        ret = adv + V
        O_, A_, LP_, ADV, RET = (torch.from_numpy(x.reshape(T * N, *x.shape[2:])) for x in (O, Aa, LP, adv, ret))
        for _ in range(epochs):
            perm = torch.from_numpy(rng.permutation(T * N))
            for lo in range(0, T * N, B):
                i = perm[lo:lo + B]
                a_ = ADV[i]
                a_ = (a_ - a_.mean()) / (a_.std() + 1e-8)
                dist = torch.distributions.Categorical(logits=pi(O_[i]))
                ratio = torch.exp(dist.log_prob(A_[i]) - LP_[i])
                loss = -torch.min(ratio * a_, torch.clamp(ratio, 1 - clip, 1 + clip) * a_).mean()
                opt_pi.zero_grad()
                loss.backward()
                opt_pi.step()
                vl = ((v(O_[i]).squeeze(1) - RET[i]) ** 2).mean()
                opt_v.zero_grad()
                vl.backward()
                opt_v.step()
    return lambda o: int(pi(torch.from_numpy(o)[None]).argmax())


class Connect4s:
    """n games of Connect4 (6 rows, 7 columns, player 0 first) played in lockstep, as
    dlrun's env.Connect4: a bitboard per player with cell (row, col) at bit 7*col + row,
    four in a row found by shifts of 1, 7, 6 and 8; plus float32 planes of each player's
    pieces [n, 2, 6, 7] (row 0 at the bottom) from which observations are gathered."""

    SHIFTS = [(np.uint64(s), np.uint64(2 * s)) for s in (1, 7, 6, 8)]

    def __init__(self, n):
        self.n, self.ar = n, np.arange(n)
        self.bits = np.zeros((n, 2), np.uint64)
        self.planes = np.zeros((n, 2, 6, 7), np.float32)
        self.height = np.zeros((n, 7), np.int64)
        self.moves = np.zeros(n, np.int64)

    def reset(self, ks):
        self.bits[ks], self.planes[ks], self.height[ks], self.moves[ks] = 0, 0, 0, 0

    def mover(self):
        return self.moves & 1

    def observe(self, out=None):
        """The boards from the side to move: plane 0 the mover's pieces, plane 1 the opponent's."""
        m = self.mover()
        obs = np.take_along_axis(self.planes, np.stack([m, 1 - m], 1)[:, :, None, None], 1)
        if out is not None:
            out[...] = obs
        return obs

    def legal(self):
        return self.height < 6

    def play(self, a):
        """Drops each game's mover's piece into column a[k] (legal); returns (won, over) per game."""
        ar, m = self.ar, self.mover()
        row = self.height[ar, a]
        self.bits[ar, m] |= np.left_shift(np.uint64(1), (7 * a + row).astype(np.uint64))
        self.planes[ar, m, row, a] = 1
        self.height[ar, a] += 1
        self.moves += 1
        b = self.bits[ar, m]
        won = np.zeros(self.n, bool)
        for s, s2 in self.SHIFTS:
            x = b & (b >> s)
            won |= (x & (x >> s2)) != 0
        return won, won | (self.moves == 42)


def conv_net(out):
    """dlrun's netSpec for Connect4: conv 64 filters 4×4 valid + ReLU, flatten (64·3·4),
    dense 256 tanh, dense 256 tanh, dense out; Glorot-uniform weights, zero biases as
    dlrun's nn.Dense and nn.Conv2D."""
    net = nn.Sequential(nn.Conv2d(2, 64, 4), nn.ReLU(), nn.Flatten(), nn.Linear(64 * 3 * 4, 256), nn.Tanh(),
                        nn.Linear(256, 256), nn.Tanh(), nn.Linear(256, out))
    for m in net:
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)
    return net


def masked_log_softmax(z, legal):
    return torch.log_softmax(z.masked_fill(~legal, -math.inf), -1)


def ppo_connect4(steps, seed):
    """dlrun's rl.PPO with SelfPlay on Connect4 (rl/selfplay.go, rl/ppo.go), the settings
    of dlrun's connect4 recipe (run/agent.go's connect4PPO); returns the greedy policy (obs [2,6,7], legal [7]) -> column
    and the environment steps (moves of either side) played, whole rollouts."""
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    n, T, B, epochs, gamma, lam = 64, 32, 512, 8, 0.75, 0.9
    lr0, clip0, ent_coef, past_frac, openings, snap_every, pool_size = 1e-3, 0.2, 0.01, 0.5, 12, 10, 20
    pi, v, past = conv_net(7), conv_net(1), conv_net(7)
    opt_pi, opt_v = torch.optim.Adam(pi.parameters(), lr=lr0), torch.optim.Adam(v.parameters(), lr=lr0)
    npast = int(round(past_frac * n))  # Go's math.Round: half away from zero (n·0.5 is whole for even n)
    pool = []

    def snapshot():
        pool.append({k: t.clone() for k, t in pi.state_dict().items()})
        del pool[:-pool_size]

    games = Connect4s(n)
    side = np.full(n, -1)  # the trained policy's side in each game, -1 for both
    rand = np.zeros(n, np.int64)  # opening moves still to play
    nxt = seed  # games started, counted from the seed

    def start(ks):
        nonlocal nxt
        games.reset(ks)
        rand[ks] = rng.integers(0, openings + 1, len(ks))
        num = nxt + np.arange(len(ks))
        side[ks] = np.where(ks >= n - npast, num % 2, -1)
        nxt += len(ks)

    snapshot()
    start(np.arange(n))
    O, L = np.zeros((T, n, 2, 6, 7), np.float32), np.zeros((T, n, 7), bool)
    Aa, LP, V = np.zeros((T, n), np.int64), np.zeros((T, n), np.float32), np.zeros((T, n), np.float32)
    Rw, Dn, Mi = np.zeros((T, n), np.float32), np.zeros((T, n), bool), np.zeros((T, n), bool)
    done_steps = rollouts = 0
    ar = np.arange(n)
    while done_steps < steps:
        clip = anneal((opt_pi, opt_v), lr0, clip0, 1 - done_steps / steps)
        if npast:
            past.load_state_dict(pool[rng.integers(len(pool))])
        for t in range(T):
            games.observe(O[t])
            L[t] = legal = games.legal()
            trained = (side < 0) | (side == games.mover())
            mine = trained & (rand == 0)
            from_past = ~trained & (rand == 0)
            with torch.no_grad():
                x, lg = torch.from_numpy(O[t]), torch.from_numpy(legal)
                z = pi(x)
                V[t] = v(x).squeeze(1).numpy()
                if from_past.any():
                    z = torch.where(torch.from_numpy(from_past)[:, None], past(x), z)
                z = z.masked_fill(torch.from_numpy(rand > 0)[:, None], 0.0)  # openings: uniform
                logp = masked_log_softmax(z, lg).numpy().astype(np.float64)
            # Inverse-CDF sampling with one uniform per game, as rl.sample.
            cdf = np.cumsum(np.exp(logp), 1)
            hit = rng.random(n)[:, None] < cdf
            a = np.where(hit.any(1), hit.argmax(1), 6 - np.argmax(legal[:, ::-1], 1))
            Aa[t], LP[t], Mi[t] = a, logp[ar, a], mine
            won, over = games.play(a)
            Rw[t], Dn[t] = won, over
            rand[rand > 0] -= 1
            ks = np.flatnonzero(over)
            if len(ks):
                start(ks)
            done_steps += n
        with torch.no_grad():
            last = v(torch.from_numpy(games.observe())).squeeze(1).numpy()
        # Zero-sum GAE along each game's moves: the next position is worth −V to the mover.
        adv, gae, nv = np.zeros((T, n), np.float32), np.zeros(n, np.float32), last
        for t in reversed(range(T)):
            nv = np.where(Dn[t], 0.0, nv)
            gae = np.where(Dn[t], 0.0, gae)
            gae = Rw[t] - gamma * nv - V[t] - gamma * lam * gae
            adv[t], nv = gae, V[t]
        ret = adv + V
        N = T * n
        O_, L_, A_, LP_, ADV, RET, MI = (torch.from_numpy(np.ascontiguousarray(x.reshape(N, *x.shape[2:])))
                                         for x in (O, L, Aa, LP, adv, ret, Mi))
        for _ in range(epochs):
            perm = torch.from_numpy(rng.permutation(N))
            for lo in range(0, N, B):
                i = perm[lo:lo + B]
                vl = ((v(O_[i]).squeeze(1) - RET[i]) ** 2).mean()
                opt_v.zero_grad()
                vl.backward()
                opt_v.step()
                i = i[MI[i]]  # the policy learns from its own moves only
                if len(i) == 0:
                    continue
                a_ = ADV[i]
                a_ = (a_ - a_.mean()) / ((a_.std() if len(i) > 1 else 0.0) + 1e-8)
                lp = masked_log_softmax(pi(O_[i]), L_[i])
                ent = -(lp.exp() * lp.masked_fill(~L_[i], 0.0)).sum(1)
                ratio = torch.exp(lp.gather(1, A_[i][:, None]).squeeze(1) - LP_[i])
                loss = (-torch.min(ratio * a_, torch.clamp(ratio, 1 - clip, 1 + clip) * a_) - ent_coef * ent).mean()
                opt_pi.zero_grad()
                loss.backward()
                opt_pi.step()
        rollouts += 1
        if rollouts % snap_every == 0:
            snapshot()

    @torch.no_grad()
    def act(obs, legal):
        z = pi(torch.from_numpy(obs)[None])[0].numpy()
        return int(np.argmax(np.where(legal, z, -np.inf)))
    return act, done_steps


def score_vs_random(act, games=100, seed=1 << 40):
    """The greedy agent's score against a uniformly random player (win 1, draw 0.5),
    the agent moving first in half of the games."""
    rng = np.random.default_rng(seed)
    score = 0.0
    for g in range(games):
        b = Connect4s(1)
        me = g % 2
        while True:
            legal = b.legal()[0]
            if b.mover()[0] == me:
                a = act(b.observe()[0], legal)
            else:
                a = int(rng.choice(np.flatnonzero(legal)))
            mover = b.mover()[0]
            won, over = b.play(np.array([a]))
            if over[0]:
                score += (1.0 if mover == me else 0.0) if won[0] else 0.5
                break
    return score / games


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--agent", choices=["dqn", "ppo"], required=True)
    ap.add_argument("--env", choices=["cartpole", "connect4"], default="cartpole")
    ap.add_argument("--steps", type=int, default=0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    if args.env == "connect4" and args.agent != "ppo":
        sys.exit("rl_ref.py: --env connect4 needs --agent ppo (self-play PPO); %s runs on cartpole only" % args.agent)
    torch.set_num_threads(args.threads)
    steps = args.steps or {"dqn": 50000, "ppo": 100000}[args.agent]
    if args.env == "connect4":
        start = time.time()
        act, played = ppo_connect4(steps, args.seed)
        secs = time.time() - start
        print(json.dumps({"agent": args.agent, "env": args.env, "steps": played, "seconds": secs,
                          "steps_per_sec": played / secs, "score_vs_random": score_vs_random(act),
                          "torch": torch.__version__, "threads": args.threads}))
        return
    start = time.time()
    act = (dqn if args.agent == "dqn" else ppo)(steps, args.seed)
    secs = time.time() - start
    rng = np.random.default_rng(1 << 40)
    rets = []
    with torch.no_grad():
        for _ in range(100):
            e = CartPole()
            o, total = e.reset(rng), 0.0
            while True:
                o, r, term, trunc = e.step(act(o))
                total += r
                if term or trunc:
                    break
            rets.append(total)
    print(json.dumps({"agent": args.agent, "steps": steps, "seconds": secs, "steps_per_sec": steps / secs,
                      "mean_return": sum(rets) / len(rets), "torch": torch.__version__, "threads": args.threads}))


if __name__ == "__main__":
    main()
