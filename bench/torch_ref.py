#!/usr/bin/env python3
"""PyTorch 1.13 reference for dlrun's reference models (Debian python3-torch).

Trains the same nets as dlrun (mlp, cnn, rnn, charrnn, the recommenders)
on the same data, with the same optimizer, batch size and epochs, and
prints one JSON line with the figures: test accuracy (or the charrnn's
held-out loss and bits per character), training samples/s (characters/s
for the charrnn; evaluation excluded) and the peak RSS of the process.

    python3 bench/torch_ref.py --model cnn --epochs 1 --threads 1

With --infer it trains nothing and times inference instead (model.eval(),
torch.no_grad(), batches of the test split; bench/infer runs it):

    python3 bench/torch_ref.py --infer --model cnn --batches 1,64 --seconds 3

On a CPU with AVX-512, set OPENBLAS_CORETYPE=SkylakeX as the Go benches do
(internal/torchref): Debian's OpenBLAS may otherwise pick slow kernels. Do not
set it elsewhere: on a CPU without AVX-512 (an AMD Zen 3) it dies with SIGILL.

The data is read from a folder of IDX files (gzipped or not); bench/compare
passes the bundled subset, extracted by `dlrun export-data`-free means: the
files under datasets/data/fashion-mnist are read directly.
"""
import argparse
import gzip
import json
import math
import os
import resource
import struct
import sys
import time

import numpy as np
import torch
import torch.nn as nn


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != 8:
        raise SystemExit(f"{path}: not an IDX file of unsigned bytes")
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    arr = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if arr.size != int(np.prod(dims)):
        raise SystemExit(f"{path}: truncated")
    return arr.reshape(dims)


def find(d, name):
    for p in (name, name + ".gz"):
        if os.path.exists(os.path.join(d, p)):
            return os.path.join(d, p)
    raise SystemExit(f"{d}: missing {name}")


def load(d):
    xs = read_idx(find(d, "train-images-idx3-ubyte")).astype(np.float32) / 255
    ys = read_idx(find(d, "train-labels-idx1-ubyte")).astype(np.int64)
    xt = read_idx(find(d, "t10k-images-idx3-ubyte")).astype(np.float32) / 255
    yt = read_idx(find(d, "t10k-labels-idx1-ubyte")).astype(np.int64)
    return (torch.from_numpy(xs).unsqueeze(1), torch.from_numpy(ys),
            torch.from_numpy(xt).unsqueeze(1), torch.from_numpy(yt))


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(),
                                 nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))

    def forward(self, x):
        return self.net(x)


class CNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(64 * 5 * 5, 512), nn.ReLU(), nn.Linear(512, 10))

    def forward(self, x):
        return self.net(x)


class CNNBN(nn.Module):
    """dlrun's cnn-bn: the cnn with batch normalisation after each convolution (no conv bias)."""

    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(1, 32, 3, bias=False), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(64 * 5 * 5, 512), nn.ReLU(), nn.Linear(512, 10))

    def forward(self, x):
        return self.net(x)


class RNN(nn.Module):
    def __init__(self, cell="lstm"):
        super().__init__()
        rnn = nn.LSTM if cell == "lstm" else nn.GRU
        self.rnn = rnn(28, 128, batch_first=True)
        self.head = nn.Sequential(nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 10))

    def forward(self, x):
        out, _ = self.rnn(x.view(x.shape[0], 28, 28))
        return self.head(out[:, -1])


def load_ratings(d):
    """MovieLens ratings.csv(.gz) split as dlrun splits it: for each user,
    ratings ordered by (timestamp, movieId); the last round-half-even(10%),
    at least one, are the test set. Users and movies get dense indices in
    the order of their sorted original ids."""
    path = find(d, "ratings.csv")
    opener = gzip.open if path.endswith(".gz") else open
    by_user = {}
    with opener(path, "rt") as f:
        header = f.readline()
        for line in f:
            u, m, r, t = line.rstrip("\n").split(",")
            by_user.setdefault(int(u), []).append((int(t), int(m), float(r)))
    users = sorted(by_user)
    movies = sorted({m for rs in by_user.values() for _, m, _ in rs})
    uix = {u: i for i, u in enumerate(users)}
    mix = {m: i for i, m in enumerate(movies)}
    train, test = [], []
    for u in users:
        rs = sorted(by_user[u])
        k = max(1, round(len(rs) / 10))
        for j, (t, m, r) in enumerate(rs):
            (test if j >= len(rs) - k else train).append((uix[u], mix[m], r))
    def tensors(rows):
        a = np.array(rows, dtype=np.float64)
        return torch.from_numpy(a[:, 0].astype(np.int64)), torch.from_numpy(a[:, 1].astype(np.int64)), torch.from_numpy(a[:, 2].astype(np.float32))
    return len(users), len(movies), tensors(train), tensors(test)


class MF(nn.Module):
    """dlrun's mf: mean + user bias + movie bias + <p_user, q_movie>; embeddings N(0, 0.01^2)."""

    def __init__(self, users, movies, dim, mean, biases_only=False):
        super().__init__()
        self.mean, self.biases_only = mean, biases_only
        self.ub, self.mb = nn.Embedding(users, 1), nn.Embedding(movies, 1)
        nn.init.zeros_(self.ub.weight)
        nn.init.zeros_(self.mb.weight)
        if not biases_only:
            self.p, self.q = nn.Embedding(users, dim), nn.Embedding(movies, dim)
            nn.init.normal_(self.p.weight, std=0.01)
            nn.init.normal_(self.q.weight, std=0.01)

    def forward(self, u, m):
        bu, bm = self.ub(u), self.mb(m)
        pred = self.mean + bu.squeeze(1) + bm.squeeze(1)
        penalty = (bu ** 2).sum() + (bm ** 2).sum()
        if not self.biases_only:
            p, q = self.p(u), self.q(m)
            pred = pred + (p * q).sum(1)
            penalty = penalty + (p ** 2).sum() + (q ** 2).sum()
        return pred, penalty


class NCF(MF):
    """dlrun's ncf: MF's biases and embeddings, the embeddings concatenated
    through an MLP 2*dim -> 64 ReLU -> 32 ReLU -> 1 (Glorot-uniform weights,
    zero biases, as dlrun's Dense) instead of the dot product; the L2
    penalty covers the embeddings and biases, not the MLP."""

    def __init__(self, users, movies, dim, mean):
        super().__init__(users, movies, dim, mean)
        layers, width = [], 2 * dim
        for units in (64, 32):
            layers += [nn.Linear(width, units), nn.ReLU()]
            width = units
        layers.append(nn.Linear(width, 1))
        self.mlp = nn.Sequential(*layers)
        for m in self.mlp:
            if isinstance(m, nn.Linear):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, u, m):
        bu, bm, p, q = self.ub(u), self.mb(m), self.p(u), self.q(m)
        pred = self.mean + bu.squeeze(1) + bm.squeeze(1) + self.mlp(torch.cat([p, q], dim=1)).squeeze(1)
        penalty = (bu ** 2).sum() + (bm ** 2).sum() + (p ** 2).sum() + (q ** 2).sum()
        return pred, penalty


def run_recommender(args):
    users, movies, (tu, tm, tr), (su, sm, sr) = load_ratings(args.data)
    mean = float(tr.double().mean())
    if args.model == "ncf":
        model = NCF(users, movies, args.dim, mean)
    else:
        model = MF(users, movies, args.dim, mean, biases_only=args.model == "biases")
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    g = torch.Generator().manual_seed(args.seed)
    train_secs = 0.0
    for epoch in range(args.epochs):
        perm = torch.randperm(len(tr), generator=g)
        t0 = time.perf_counter()
        for i in range(0, len(tr), args.batch):
            idx = perm[i:i + args.batch]
            opt.zero_grad()
            pred, penalty = model(tu[idx], tm[idx])
            loss = ((pred - tr[idx]) ** 2).mean() + args.weight_decay * penalty / len(idx)
            loss.backward()
            opt.step()
        train_secs += time.perf_counter() - t0
        with torch.no_grad():
            pred, _ = model(su, sm)
            err = pred - sr
            rmse, mae = float((err ** 2).mean().sqrt()), float(err.abs().mean())
        print(f"epoch {epoch + 1}/{args.epochs} test_rmse {rmse:.4f} test_mae {mae:.4f}", file=sys.stderr)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({
        "framework": "pytorch " + torch.__version__, "model": args.model, "epochs": args.epochs,
        "batch_size": args.batch, "threads": args.threads,
        "test_rmse": rmse, "test_mae": mae, "test_accuracy": rmse,
        "samples_per_sec": len(tr) * args.epochs / train_secs, "peak_rss_bytes": rss}))


def load_text(path, held_out=0.1):
    """The text split as dlrun's datasets.NewText splits it: the vocabulary
    is the sorted set of its characters (code points), the last
    int(n * held_out) characters are held out."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        text = f.read().decode("utf-8")
    vocab = sorted(set(text))
    ix = {c: i for i, c in enumerate(vocab)}
    ids = torch.tensor([ix[c] for c in text], dtype=torch.int64)
    cut = len(ids) - int(len(ids) * held_out)
    return vocab, ids[:cut], ids[cut:]


class CharRNN(nn.Module):
    """dlrun's charrnn: embedding 64 (N(0, 1)) -> LSTM 256 -> LSTM 256 ->
    dense over the vocabulary (Glorot-uniform weights, zero bias, as dlrun
    initialises it; the LSTMs keep PyTorch's initialisation, which dlrun
    copies)."""

    def __init__(self, vocab, cell="lstm"):
        super().__init__()
        self.embed = nn.Embedding(vocab, 64)
        rnn = nn.LSTM if cell == "lstm" else nn.GRU
        self.rnn = rnn(64, 256, num_layers=2, batch_first=True)
        self.head = nn.Linear(256, vocab)
        nn.init.xavier_uniform_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def forward(self, x, state):
        out, state = self.rnn(self.embed(x), state)
        return self.head(out), state


def detach(state):
    if state is None:
        return None
    if isinstance(state, tuple):
        return tuple(s.detach() for s in state)
    return state.detach()


def token_pass(model, tokens, batch, seq_len, lossf, opt=None):
    """One pass of dlrun's train.NextToken over tokens: batch contiguous
    streams of (len - 1) // batch tokens, chunks of seq_len steps (the last
    one shorter), the recurrent state carried from chunk to chunk (detached:
    truncated backpropagation through time) and starting from zeros. The
    loss is the mean cross-entropy over the chunk's positions; the pass's
    loss is the mean over all positions. It returns (loss, accuracy)."""
    n = (len(tokens) - 1) // batch
    x = tokens[:batch * n].view(batch, n)
    y = torch.stack([tokens[b * n + 1:b * n + n + 1] for b in range(batch)])
    state, total, correct, count = None, 0.0, 0, 0
    for lo in range(0, n, seq_len):
        xb, yb = x[:, lo:lo + seq_len], y[:, lo:lo + seq_len]
        logits, state = model(xb, state)
        state = detach(state)
        loss = lossf(logits.reshape(-1, logits.shape[-1]), yb.reshape(-1))
        if opt is not None:
            opt.zero_grad()
            loss.backward()
            opt.step()
        k = yb.numel()
        total += loss.item() * k
        correct += (logits.argmax(-1) == yb).sum().item()
        count += k
    return total / count, correct / count


def run_charrnn(args):
    if args.data.endswith("fashion-mnist"):
        args.data = os.path.join(os.path.dirname(__file__), "..", "datasets", "data", "austen", "prideprejudice.txt.gz")
    vocab, train, held = load_text(args.data)
    model = CharRNN(len(vocab), args.cell)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    lossf = nn.CrossEntropyLoss()
    train_secs = 0.0
    loss_v = acc = 0.0
    for epoch in range(args.epochs):
        model.train()
        t0 = time.perf_counter()
        train_loss, _ = token_pass(model, train, args.batch, args.seq_len, lossf, opt)
        train_secs += time.perf_counter() - t0
        model.eval()
        with torch.no_grad():
            loss_v, acc = token_pass(model, held, args.batch, args.seq_len, lossf)
        print(f"epoch {epoch + 1}/{args.epochs} train_loss {train_loss:.4f} test_loss {loss_v:.4f} "
              f"test_bits_per_char {loss_v / math.log(2):.4f} test_acc {acc:.4f}", file=sys.stderr)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({
        "framework": "pytorch " + torch.__version__, "model": args.model, "epochs": args.epochs,
        "batch_size": args.batch, "seq_len": args.seq_len, "threads": args.threads,
        "openblas_threads": os.environ.get("OPENBLAS_NUM_THREADS", ""),
        "test_accuracy": acc, "test_loss": loss_v, "test_bits_per_char": loss_v / math.log(2),
        "samples_per_sec": len(train) * args.epochs / train_secs, "peak_rss_bytes": rss}))


def load_test(d):
    xt = read_idx(find(d, "t10k-images-idx3-ubyte")).astype(np.float32) / 255
    return torch.from_numpy(xt).unsqueeze(1)


def run_infer(args):
    """Inference throughput of an image classifier (untrained weights: the
    time does not depend on them): model.eval(), torch.no_grad(), forward
    on consecutive batches of the test split for about --seconds per batch
    size, after a warm-up. Prints one JSON line with the median latency of
    a forward pass and the images/s it gives, per batch size."""
    if args.model not in ("mlp", "cnn", "cnn-bn", "rnn", "gru"):
        raise SystemExit(f"--infer: {args.model} is not an image classifier")
    xt = load_test(args.data)
    model = {"mlp": MLP, "cnn": CNN, "cnn-bn": CNNBN, "rnn": lambda: RNN("lstm"), "gru": lambda: RNN("gru")}[args.model]()
    model.eval()
    ips, lat, calls = {}, {}, {}
    with torch.no_grad():
        for b in [int(s) for s in args.batches.split(",")]:
            if b < 1 or b > len(xt):
                raise SystemExit(f"--batches: {b} is not in [1, {len(xt)}]")
            batches = [xt[i:i + b] for i in range(0, len(xt) - b + 1, b)]
            for x in batches[:10]:  # warm-up
                model(x)
            times, i = [], 0
            end = time.perf_counter() + args.seconds
            while time.perf_counter() < end or len(times) < 5:
                x = batches[i % len(batches)]
                t0 = time.perf_counter()
                model(x)
                times.append(time.perf_counter() - t0)
                i += 1
            med = float(np.median(times))
            ips[str(b)], lat[str(b)], calls[str(b)] = b / med, med * 1e3, len(times)
    print(json.dumps({
        "framework": "pytorch " + torch.__version__, "model": args.model, "mode": "infer",
        "threads": args.threads, "openblas_threads": os.environ.get("OPENBLAS_NUM_THREADS", ""),
        "images_per_sec": ips, "latency_ms": lat, "calls": calls}))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="cnn", choices=["mlp", "cnn", "cnn-bn", "rnn", "gru", "charrnn", "mf", "ncf", "biases"])
    ap.add_argument("--seq-len", type=int, default=100, help="charrnn: steps of backpropagation through time per batch")
    ap.add_argument("--cell", default="lstm", choices=["lstm", "gru"], help="charrnn: recurrent cell")
    ap.add_argument("--dim", type=int, default=32, help="mf: embedding size")
    ap.add_argument("--weight-decay", type=float, default=0.0,
                    help="mf, ncf, biases: L2 on each batch's embedding rows and biases, averaged over the batch (dlrun's)")
    ap.add_argument("--data", default=os.path.join(os.path.dirname(__file__), "..", "datasets", "data", "fashion-mnist"),
                    help="IDX folder; mf, ncf, biases: MovieLens folder; charrnn: a UTF-8 text file, gzipped or not (default: the bundled novel)")
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--lr-schedule", default="constant", choices=["constant", "cosine"],
                    help="cosine: CosineAnnealingLR with T_max = epochs, stepped per epoch (dlrun's cosine)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--infer", action="store_true",
                    help="time inference (eval mode, no_grad) instead of training: image classifiers only")
    ap.add_argument("--batches", default="1,64", help="--infer: batch sizes, comma-separated")
    ap.add_argument("--seconds", type=float, default=3.0, help="--infer: seconds of timed calls per batch size")
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    if args.infer:
        return run_infer(args)
    if args.model in ("mf", "ncf", "biases"):
        if args.data.endswith("fashion-mnist"):
            args.data = os.path.join(os.path.dirname(__file__), "..", "datasets", "data", "movielens")
        return run_recommender(args)
    if args.model == "charrnn":
        return run_charrnn(args)
    xs, ys, xt, yt = load(args.data)
    model = {"mlp": MLP, "cnn": CNN, "cnn-bn": CNNBN, "rnn": lambda: RNN("lstm"), "gru": lambda: RNN("gru")}[args.model]()
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=args.epochs) if args.lr_schedule == "cosine" else None
    lossf = nn.CrossEntropyLoss()
    g = torch.Generator().manual_seed(args.seed)
    train_secs = 0.0
    acc = loss_v = 0.0
    for epoch in range(args.epochs):
        model.train()
        perm = torch.randperm(len(xs), generator=g)
        t0 = time.perf_counter()
        for i in range(0, len(xs), args.batch):
            idx = perm[i:i + args.batch]
            opt.zero_grad()
            loss = lossf(model(xs[idx]), ys[idx])
            loss.backward()
            opt.step()
        train_secs += time.perf_counter() - t0
        if sched is not None:
            sched.step()
        model.eval()
        with torch.no_grad():
            correct, total_loss = 0, 0.0
            for i in range(0, len(xt), 1000):
                out = model(xt[i:i + 1000])
                total_loss += lossf(out, yt[i:i + 1000]).item() * len(out)
                correct += (out.argmax(1) == yt[i:i + 1000]).sum().item()
        acc, loss_v = correct / len(xt), total_loss / len(xt)
        print(f"epoch {epoch + 1}/{args.epochs} test_loss {loss_v:.4f} test_acc {acc:.4f}", file=sys.stderr)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({
        "framework": "pytorch " + torch.__version__, "model": args.model, "epochs": args.epochs,
        "batch_size": args.batch, "threads": args.threads,
        "openblas_threads": os.environ.get("OPENBLAS_NUM_THREADS", ""),
        "test_accuracy": acc, "test_loss": loss_v,
        "samples_per_sec": len(xs) * args.epochs / train_secs, "peak_rss_bytes": rss}))


if __name__ == "__main__":
    main()
