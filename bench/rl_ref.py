#!/usr/bin/env python3
"""PyTorch reference agents for dlrun's rl package: DQN and PPO on CartPole-v1.

The same algorithms and hyperparameters as dlrun's rl.DQN and rl.PPO (which
take Stable-Baselines3's tuned CartPole-v1 settings), written plainly in
PyTorch 1.13 (Debian's python3-torch) with the CartPole-v1 physics of
Gymnasium's cartpole.py (Gymnasium is not packaged in Debian), so that the
throughput of the two, environment steps per second with training included,
compares like for like:

    OPENBLAS_CORETYPE=SkylakeX python3 bench/rl_ref.py --agent dqn --steps 50000
    OPENBLAS_CORETYPE=SkylakeX python3 bench/rl_ref.py --agent ppo --steps 100000

It prints one JSON line: agent, steps, seconds (training), steps_per_sec,
and mean_return over 100 greedy evaluation episodes.
"""
import argparse
import json
import math
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
        frac = 1 - done_steps / steps
        for o in (opt_pi, opt_v):
            for g in o.param_groups:
                g["lr"] = lr0 * frac
        clip = clip0 * frac
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--agent", choices=["dqn", "ppo"], required=True)
    ap.add_argument("--steps", type=int, default=0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    steps = args.steps or {"dqn": 50000, "ppo": 100000}[args.agent]
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
