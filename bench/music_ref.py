#!/usr/bin/env python3
"""PyTorch 1.13 reference for dlrun's music models (Debian python3-torch).

Trains music-lstm, music-lstm-joint or music-transformer on the JSB Chorales (the bundled
datasets/data/jsb-chorales, the 229/76/77 split of Boulanger-Lewandowski et
al. 2012) to predict each quarter-note step of a chorale, an 88-key piano
roll (MIDI 21 to 108), from the steps before it, and prints one JSON line
with the figures.

The measure is the benchmark's (as in Bai, Kolter & Koltun 2018): for each
chorale of T steps, steps 2..T are predicted from the steps before them;
the negative log-likelihood of a step is the binary cross-entropy of its
88 keys, in nats, summed over the keys; the NLL per step is the sum over
every predicted step of a split divided by the number of those steps.
Frame accuracy (Bay et al. 2009) is TP / (TP + FP + FN) over all predicted
steps, a key predicted on when its probability is at least 0.5.

The defaults are music-lstm's recipe as dlrun runs it
(experiments/music-lstm.yaml): LSTM 128, dropout 0.3, Adam at 3e-3 on
batches of 4 chorales, the gradient norm clipped at 1 (dlrun's 1/88 on
its loss averaged over the keys), 45 epochs, the last epoch's test
figures; samples_per_sec counts predicted training steps.

With --joint (music-lstm-joint: with 128 hidden units) the model's 88
logits feed dlrun's autoregressive output (the class Autoregressive): each
key's logit given the keys below it in its step; the NLL is then the
joint distribution's, and frame accuracy
predicts a step's keys one by one from the lowest, each on when its
conditional probability given the keys predicted below it is at least 0.5.

Training: Adam (L2 weight decay as dlrun's), batches of whole chorales
(padded and masked), gradient norm clipped, a constant or cosine learning
rate; each epoch may transpose every training chorale by a random
whole number of semitones in [-transpose, +transpose] (kept within the 88
keys); after each epoch the valid split is scored, and the test figures
reported are those of the epoch with the best valid NLL (with --report
last, those of the last epoch, as dlrun's fixed-epoch recipes report). With
--ema the weights scored are an exponential moving average of the trained
ones. Training stops after --epochs, after --patience epochs without a
better valid NLL, or when --minutes of training time (evaluation
excluded) have passed.

    /usr/bin/python3 bench/music_ref.py --threads 2       # music-lstm's recipe
    /usr/bin/python3 bench/music_ref.py --model music-transformer --hidden 128 --layers 2 \
        --dropout 0.2 --lr 1e-3 --batch 8 --epochs 300 --patience 15 --report best-valid --threads 2
"""
import argparse
import copy
import gzip
import json
import math
import os
import random
import resource
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

KEYS = 88
LOWEST = 21  # MIDI number of the piano's lowest key, A0


def load(path):
    with gzip.open(path, "rt") as f:
        d = json.load(f)
    out = {}
    for split in ("train", "valid", "test"):
        rolls = []
        for chorale in d[split]:
            r = np.zeros((len(chorale), KEYS), dtype=np.float32)
            for t, step in enumerate(chorale):
                for n in step:
                    n = int(n)
                    if not LOWEST <= n < LOWEST + KEYS:
                        raise SystemExit(f"{path}: note {n} outside the 88 keys")
                    r[t, n - LOWEST] = 1
            rolls.append(r)
        out[split] = rolls
    return out


def transpose(roll, k):
    """roll shifted by k semitones (k > 0 up); the caller keeps it in range."""
    if k == 0:
        return roll
    out = np.zeros_like(roll)
    if k > 0:
        out[:, k:] = roll[:, :-k]
    else:
        out[:, :k] = roll[:, -k:]
    return out


def key_range(roll):
    on = np.nonzero(roll.any(axis=0))[0]
    return (on.min(), on.max()) if len(on) else (0, KEYS - 1)


class Autoregressive(nn.Module):
    """dlrun's autoregressive output (nn.Autoregressive): the keys of a step
    given the sequence model's logits z, key k's logit
    z_k + sum_{j<k} A_kj v_j + sum_h U_kh relu(c_h + sum_j W_hj v_j), A
    strictly lower triangular, hidden unit h of degree m_h = 1 + h mod 87
    reading the keys j < m_h and feeding the keys k >= m_h (MADE); A and U
    zero at the start, W and c nn.Linear's."""

    def __init__(self, hidden=0):
        super().__init__()
        self.hidden = hidden
        self.weight = nn.Parameter(torch.zeros(KEYS, KEYS))
        self.register_buffer("mask", torch.tril(torch.ones(KEYS, KEYS), diagonal=-1))
        if hidden:
            deg = torch.tensor([1 + h % (KEYS - 1) for h in range(hidden)])
            self.register_buffer("reads", (torch.arange(KEYS)[None, :] < deg[:, None]).float())  # [hidden, keys]
            self.register_buffer("feeds", (deg[None, :] <= torch.arange(KEYS)[:, None]).float())  # [keys, hidden]
            self.inner = nn.Linear(KEYS, hidden)
            self.out = nn.Parameter(torch.zeros(KEYS, hidden))

    def added(self, v):
        """What the keys v add to each key's logit (only those below it count)."""
        y = F.linear(v, self.weight * self.mask)
        if self.hidden:
            h = torch.relu(F.linear(v, self.inner.weight * self.reads, self.inner.bias))
            y = y + F.linear(h, self.out * self.feeds)
        return y

    def forward(self, z, v):
        """The conditional logits of keys v (teacher forcing)."""
        return z + self.added(v)

    def greedy(self, z):
        """Each key on when its conditional probability, given the keys
        below it as decided, is at least 0.5."""
        v = torch.zeros_like(z)
        for k in range(KEYS):
            v[..., k] = ((z[..., k] + self.added(v)[..., k]) >= 0).float()
        return v


class MusicLSTM(nn.Module):
    """music-lstm: the previous step's 88 keys -> stacked LSTM -> 88 logits."""

    def __init__(self, hidden, layers, dropout, cell="lstm", skip=False, in_dropout=0.0, beat_bits=0, joint=False, joint_hidden=0):
        super().__init__()
        self.joint = Autoregressive(joint_hidden) if joint else None
        self.in_drop = nn.Dropout(in_dropout)
        self.beat_bits = beat_bits
        rnn = nn.LSTM if cell == "lstm" else nn.GRU
        self.rnn = rnn(KEYS + beat_bits, hidden, num_layers=layers, batch_first=True,
                       dropout=dropout if layers > 1 else 0.0)
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(hidden, KEYS)
        self.skip = nn.Linear(KEYS, KEYS, bias=False) if skip else None

    def forward(self, x):
        """The logits z of the next step's keys (with a joint output, before
        the keys below each are added)."""
        h, _ = self.rnn(with_beat(self.in_drop(x), self.beat_bits))
        y = self.out(self.drop(h))
        return y + self.skip(x) if self.skip is not None else y


def with_beat(x, bits):
    """x with the low bits of each predicted step's index (t+1 for input
    step t) appended to every step: where the step falls in the bar."""
    if bits == 0:
        return x
    b, t, _ = x.shape
    idx = torch.arange(1, t + 1).unsqueeze(1)
    feats = ((idx >> torch.arange(bits)) & 1).float()
    return torch.cat([x, feats.unsqueeze(0).expand(b, t, bits)], dim=-1)


class Block(nn.Module):
    """A pre-norm transformer block with causal self-attention."""

    def __init__(self, d, heads, ff, dropout):
        super().__init__()
        self.ln1 = nn.LayerNorm(d)
        self.attn = nn.MultiheadAttention(d, heads, dropout=dropout, batch_first=True)
        self.ln2 = nn.LayerNorm(d)
        self.ff = nn.Sequential(nn.Linear(d, ff), nn.GELU(), nn.Dropout(dropout), nn.Linear(ff, d))
        self.drop = nn.Dropout(dropout)

    def forward(self, x, mask):
        h = self.ln1(x)
        a, _ = self.attn(h, h, h, attn_mask=mask, need_weights=False)
        x = x + self.drop(a)
        return x + self.drop(self.ff(self.ln2(x)))


class MusicTransformer(nn.Module):
    """music-transformer: the previous step's 88 keys -> linear embedding +
    learned position embedding -> causal pre-norm blocks -> layer norm -> 88
    logits."""

    def __init__(self, d, heads, layers, ff, dropout, max_len, skip=False, window=0, joint=False, joint_hidden=0):
        super().__init__()
        self.joint = Autoregressive(joint_hidden) if joint else None
        self.window = window
        self.skip = nn.Linear(KEYS, KEYS, bias=False) if skip else None
        self.inp = nn.Linear(KEYS, d)
        self.pos = nn.Embedding(max_len, d)
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.ModuleList([Block(d, heads, ff, dropout) for _ in range(layers)])
        self.ln = nn.LayerNorm(d)
        self.out = nn.Linear(d, KEYS)
        self.max_len = max_len

    def forward(self, x):
        t = x.shape[1]
        if t > self.max_len:
            raise SystemExit(f"sequence of {t} steps is longer than the {self.max_len} positions")
        h = self.drop(self.inp(x) + self.pos(torch.arange(t)))
        mask = torch.triu(torch.full((t, t), float("-inf")), diagonal=1)
        if self.window:  # each step attends to itself and the window-1 steps before it
            mask = mask + torch.tril(torch.full((t, t), float("-inf")), diagonal=-self.window)
        for b in self.blocks:
            h = b(h, mask)
        y = self.out(self.ln(h))
        return y + self.skip(x) if self.skip is not None else y


def batches(rolls, size, shuffle, rng, shift=0):
    idx = list(range(len(rolls)))
    if shuffle:
        rng.shuffle(idx)
    for i in range(0, len(idx), size):
        group = [rolls[j] for j in idx[i:i + size]]
        if shift:
            moved = []
            for r in group:
                lo, hi = key_range(r)
                k = rng.randint(max(-shift, -lo), min(shift, KEYS - 1 - hi))
                moved.append(transpose(r, k))
            group = moved
        t = max(len(r) for r in group) - 1
        x = np.zeros((len(group), t, KEYS), dtype=np.float32)
        y = np.zeros((len(group), t, KEYS), dtype=np.float32)
        m = np.zeros((len(group), t), dtype=np.float32)
        for b, r in enumerate(group):
            n = len(r) - 1
            x[b, :n], y[b, :n], m[b, :n] = r[:-1], r[1:], 1
        yield torch.from_numpy(x), torch.from_numpy(y), torch.from_numpy(m)


def conditional(model, x, y):
    """The logits of each key of y, the steps after x: with a joint output,
    each given the keys of its step below it (teacher forcing)."""
    z = model(x)
    return model.joint(z, y) if model.joint is not None else z


def evaluate(model, rolls):
    model.eval()
    nll, steps, tp, fp, fn = 0.0, 0, 0, 0, 0
    with torch.no_grad():
        for x, y, m in batches(rolls, 16, False, None):
            logits = conditional(model, x, y)
            bce = F.binary_cross_entropy_with_logits(logits, y, reduction="none").sum(-1)
            nll += float((bce * m).sum())
            steps += int(m.sum())
            if model.joint is not None:  # the keys decided one by one, each from those below it
                pred = model.joint.greedy(model(x)) * m.unsqueeze(-1)
            else:
                pred = (logits >= 0).float() * m.unsqueeze(-1)
            tp += int((pred * y).sum())
            fp += int((pred * (1 - y)).sum())
            fn += int(((1 - pred) * y * m.unsqueeze(-1)).sum())
    return nll / steps, tp / max(tp + fp + fn, 1)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="music-lstm", choices=["music-lstm", "music-lstm-joint", "music-gru", "music-transformer"],
                    help="music-lstm-joint is music-lstm with --joint")
    ap.add_argument("--data", default=os.path.join(here, "..", "datasets", "data", "jsb-chorales", "jsb-chorales-quarter.json.gz"))
    ap.add_argument("--hidden", type=int, default=128, help="LSTM/GRU units, or the transformer's width")
    ap.add_argument("--layers", type=int, default=None, help="recurrent layers or transformer blocks (default 1; music-transformer 2)")
    ap.add_argument("--heads", type=int, default=4, help="transformer: attention heads")
    ap.add_argument("--ff", type=int, default=0, help="transformer: feed-forward width (0: 4 x hidden)")
    ap.add_argument("--max-len", type=int, default=None, help="transformer: positions (default --seq-len, else 512)")
    ap.add_argument("--window", type=int, default=0, help="transformer: attend to at most this many steps (0: all)")
    ap.add_argument("--dropout", type=float, default=None, help="default 0.3; music-transformer 0.2")
    ap.add_argument("--beat-bits", type=int, default=0,
                    help="music-lstm: append this many low bits of each predicted step's index to the input")
    ap.add_argument("--in-dropout", type=float, default=0.0, help="music-lstm: dropout on the input step's keys")
    ap.add_argument("--skip", action="store_true", help="add a linear map of the input step to the output logits")
    ap.add_argument("--joint", action="store_true",
                    help="an autoregressive output over the keys of a step (dlrun's autoregressive layer: the -joint models)")
    ap.add_argument("--joint-hidden", type=int, default=None, help="the autoregressive output's hidden units (default 0; music-lstm-joint 128)")
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--weight-decay", type=float, default=0.0, help="L2 weight decay added to the gradients (Adam's weight_decay, as dlrun's)")
    ap.add_argument("--clip", type=float, default=1.0, help="gradient norm clip (0: none)")
    ap.add_argument("--clip-norm", type=float, default=None,
                    help="dlrun's clip_norm (experiments/reproduce passes it): dlrun's loss averages over the 88 keys, "
                         "this script's sums them, so it sets --clip to 88 times it")
    ap.add_argument("--batch", type=int, default=4, help="chorales per batch")
    ap.add_argument("--transpose", type=int, default=0, help="random transposition of training chorales, +-semitones")
    ap.add_argument("--epochs", type=int, default=45)
    ap.add_argument("--patience", type=int, default=0, help="epochs without a better valid NLL before stopping (0: never)")
    ap.add_argument("--minutes", type=float, default=0.0, help="training time budget, evaluation excluded (0: none)")
    ap.add_argument("--clock", default="wall", choices=["wall", "cpu"],
                    help="what --minutes counts: wall-clock time, or the process's CPU time divided by --threads "
                         "(for comparing recipes on a machine shared with other work)")
    ap.add_argument("--schedule", default="constant", choices=["constant", "cosine"],
                    help="learning-rate schedule: cosine anneals to 0 over --epochs, set at the start of each epoch (as dlrun's)")
    ap.add_argument("--ema", type=float, default=0.0,
                    help="evaluate an exponential moving average of the weights, updated after each step with this decay (0: none)")
    ap.add_argument("--report", default="last", choices=["best-valid", "last"],
                    help="whose test figures to report: the epoch with the best valid NLL, or the last")
    ap.add_argument("--seq-len", type=int, default=0,
                    help="the experiment's steps per example: chorales are read whole here, so none may be longer than seq-len+1 steps (0: any)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--quiet", action="store_true", help="print only the final JSON line")
    args = ap.parse_args()
    transformer = args.model == "music-transformer"
    if args.layers is None:
        args.layers = 2 if transformer else 1
    if args.dropout is None:
        args.dropout = 0.2 if transformer else 0.3
    if args.max_len is None:
        args.max_len = args.seq_len or 512
    if args.clip_norm is not None:
        args.clip = args.clip_norm * KEYS
    if args.model == "music-lstm-joint":
        args.joint = True
        if args.joint_hidden is None:
            args.joint_hidden = 128
    if args.joint_hidden is None:
        args.joint_hidden = 0

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = random.Random(args.seed)
    data = load(args.data)
    if args.seq_len:
        longest = max(len(r) for split in data.values() for r in split)
        if longest > args.seq_len + 1:
            raise SystemExit(f"--seq-len {args.seq_len}: a chorale of {longest} steps would be cut; this script reads chorales whole")
    if transformer:
        model = MusicTransformer(args.hidden, args.heads, args.layers, args.ff or 4 * args.hidden,
                                 args.dropout, args.max_len, args.skip, args.window, args.joint, args.joint_hidden)
    else:
        model = MusicLSTM(args.hidden, args.layers, args.dropout, "gru" if args.model == "music-gru" else "lstm", args.skip,
                          args.in_dropout, args.beat_bits, args.joint, args.joint_hidden)
    params = sum(p.numel() for p in model.parameters())
    opt = torch.optim.Adam(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    scored = model
    if args.ema:
        scored = copy.deepcopy(model)
        for p in scored.parameters():
            p.requires_grad_(False)

    best = {"valid_nll": math.inf}
    train_s, cpu_s, wall0, stale = 0.0, 0.0, time.time(), 0
    for epoch in range(1, args.epochs + 1):
        model.train()
        if args.schedule == "cosine":
            for g in opt.param_groups:
                g["lr"] = args.lr * (1 + math.cos(math.pi * (epoch - 1) / args.epochs)) / 2
        t0, c0 = time.time(), time.process_time()
        total, steps = 0.0, 0
        for x, y, m in batches(data["train"], args.batch, True, rng, args.transpose):
            logits = conditional(model, x, y)
            bce = F.binary_cross_entropy_with_logits(logits, y, reduction="none").sum(-1)
            loss = (bce * m).sum() / m.sum()
            opt.zero_grad()
            loss.backward()
            if args.clip > 0:
                nn.utils.clip_grad_norm_(model.parameters(), args.clip)
            opt.step()
            if args.ema:
                with torch.no_grad():
                    for pe, p in zip(scored.parameters(), model.parameters()):
                        pe.mul_(args.ema).add_(p, alpha=1 - args.ema)
            total += float(loss) * float(m.sum())
            steps += int(m.sum())
        train_s += time.time() - t0
        cpu_s += time.process_time() - c0
        vn, va = evaluate(scored, data["valid"])
        if vn < best["valid_nll"] or args.report == "last":
            tn, ta = evaluate(scored, data["test"])
            best = {"epoch": epoch, "valid_nll": vn, "valid_frame_acc": va, "test_nll": tn,
                    "test_frame_acc": ta, "train_s_at_best": round(train_s, 1), "cpu_s_at_best": round(cpu_s, 1)}
            stale = 0
        else:
            stale += 1
        if not args.quiet:
            print(f"epoch {epoch:3d}  train {total / steps:.3f}  valid {vn:.3f} ({va:.3f})  "
                  f"best test {best['test_nll']:.3f} @{best['epoch']}  {train_s:.0f}s wall, {cpu_s:.0f}s CPU",
                  file=sys.stderr, flush=True)
        spent = train_s if args.clock == "wall" else cpu_s / args.threads
        if (args.patience and stale >= args.patience) or (args.minutes and spent >= args.minutes * 60):
            break
    predicted = sum(len(r) - 1 for r in data["train"])
    out = {"model": args.model, "framework": f"PyTorch {torch.__version__}", "params": params, "epochs": epoch,
           "samples_per_sec": round(predicted * epoch / train_s, 1), "train_s": round(train_s, 1),
           "train_cpu_s": round(cpu_s, 1),
           "wall_s": round(time.time() - wall0, 1), "threads": args.threads,
           "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}
    out.update({k: (round(v, 4) if isinstance(v, float) else v) for k, v in best.items()})
    out["args"] = {k: v for k, v in vars(args).items() if k not in ("data", "quiet")}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
