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

gpt --init DIR trains from the initial weights that `go run ./bench/transformer
-init DIR` saved (dlrun's draw for its seed) instead of PyTorch's own draw, so
that the two frameworks start alike and see the same batches; --save-init DIR
saves PyTorch's draw for its seed the other way, for bench/transformer -from DIR
(neither trains); --log-steps N
prints the loss of the first N steps, as bench/transformer -log-steps does
(docs/models.md gives the two sides' agreement).

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


def read_safetensors(path):
    """The tensors of a safetensors file (dlrun's model.safetensors): an
    8-byte little-endian header length, a JSON header, raw data."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    base, out = 8 + n, {}
    kinds = {"F32": np.float32, "F64": np.float64, "I64": np.int64}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        lo, hi = t["data_offsets"]
        arr = np.frombuffer(data[base + lo:base + hi], dtype=kinds[t["dtype"]]).reshape(t["shape"])
        out[name] = torch.from_numpy(arr.copy())
    return out


class Namer:
    """Names modules as dlrun's NewSequential names layers: kind and count
    among the layers of that kind (dense1, layernorm3), counting the layers
    inside residual blocks in the same count, so that parameter names are
    dlrun's."""

    def __init__(self, owner):
        self.owner, self.counts = owner, {}

    def __call__(self, kind, module=None):
        """Registers module under its dlrun name (the only name it is
        registered under, so that the state dict is dlrun's) and returns
        it, to be kept in plain attributes (self.__dict__)."""
        self.counts[kind] = self.counts.get(kind, 0) + 1
        name = f"{kind}{self.counts[kind]}"
        if module is not None:
            setattr(self.owner, name, module)
        return module


def keep(owner, **parts):
    """Keeps references to registered modules without registering them again."""
    owner.__dict__.update(parts)


class Positions(nn.Module):
    """dlrun's learned positional_embedding: a weight [max_len, width],
    N(0, 0.02^2), added to the first steps."""

    def __init__(self, max_len, width):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(max_len, width) * 0.02)

    def forward(self, x):
        return x + self.weight[:x.shape[1]]


class GPT(nn.Module):
    """dlrun's gpt: embedding and learned positions (both N(0, 0.02^2)), blocks pre-norm
    blocks (x + attention(layer_norm(x)), causal; x + MLP(layer_norm(x)),
    dense 4*width, tanh GELU, dense width), a final layer norm and a dense
    head; dense layers Glorot-uniform with zero biases as dlrun's, the
    attention's initialisation PyTorch's own (which dlrun copies). Every
    parameter has dlrun's name; dense weights are the transpose of dlrun's
    [in, out]."""

    def __init__(self, vocab, context=128, blocks=4, heads=4, width=128):
        super().__init__()
        name = Namer(self)
        keep(self, embed=name("embedding", nn.Embedding(vocab, width)),
             pos=name("positionalembedding", Positions(context, width)))
        self.blocks = []
        for _ in range(blocks):
            name("residual")
            ln1 = name("layernorm", nn.LayerNorm(width))
            attn = name("attention", nn.MultiheadAttention(width, heads, batch_first=True))
            name("residual")
            ln2 = name("layernorm", nn.LayerNorm(width))
            up = name("dense", nn.Linear(width, 4 * width))
            name("gelu")
            down = name("dense", nn.Linear(4 * width, width))
            self.blocks.append((ln1, attn, ln2, up, down))
        keep(self, ln=name("layernorm", nn.LayerNorm(width)), head=name("dense", nn.Linear(width, vocab)),
             gelu=nn.GELU(approximate="tanh"))
        nn.init.normal_(self.embed.weight, std=0.02)
        for m in self.modules():
            if isinstance(m, nn.Linear) and not isinstance(m, nn.modules.linear.NonDynamicallyQuantizableLinear):
                nn.init.xavier_uniform_(m.weight)
                nn.init.zeros_(m.bias)
        self.masks = {}

    def mask(self, t):
        if t not in self.masks:
            self.masks[t] = torch.triu(torch.ones(t, t, dtype=torch.bool), 1)
        return self.masks[t]

    def forward(self, x, state=None):
        h = self.pos(self.embed(x))
        m = self.mask(x.shape[1])
        for ln1, attn, ln2, up, down in self.blocks:
            a = ln1(h)
            h = h + attn(a, a, a, attn_mask=m, need_weights=False)[0]
            h = h + down(self.gelu(up(ln2(h))))
        return self.head(self.ln(h)), None

    def save_dlrun(self, path):
        """Writes the weights as a dlrun model.safetensors (float32, dlrun's
        names, dense weights transposed to dlrun's [in, out]), which
        bench/transformer -from loads."""
        header, blobs, off = {}, [], 0
        for k, v in self.state_dict().items():
            t = v.detach().float()
            if k.startswith("dense") and k.endswith(".weight"):
                t = t.t()
            b = t.contiguous().numpy().astype("<f4").tobytes()
            header[k] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
            blobs.append(b)
            off += len(b)
        h = json.dumps(header).encode()
        h += b" " * (-len(h) % 8)
        os.makedirs(path, exist_ok=True)
        with open(os.path.join(path, "model.safetensors"), "wb") as f:
            f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))

    def load_dlrun(self, path):
        """Loads a dlrun model.safetensors, transposing dense weights."""
        tensors = read_safetensors(path)
        state = {}
        for k, v in self.state_dict().items():
            t = tensors[k]
            if k.startswith("dense") and k.endswith(".weight"):
                t = t.t()
            if tuple(t.shape) != tuple(v.shape):
                raise SystemExit(f"{path}: {k} is {tuple(t.shape)}, the net's {tuple(v.shape)}")
            state[k] = t.to(v.dtype)
        self.load_state_dict(state)

    @torch.no_grad()
    def step_cached(self, tok, pos, cache):
        """One token through the net with a key/value cache (what
        Hugging Face's past_key_values does): cache holds, per block,
        keys and values [heads, max, head width], filled up to pos."""
        h = self.embed.weight[tok] + self.pos.weight[pos]
        for i, (ln1, attn, ln2, up, down) in enumerate(self.blocks):
            a = ln1(h)
            q, k, v = torch.nn.functional.linear(a, attn.in_proj_weight, attn.in_proj_bias).chunk(3)
            H = attn.num_heads
            q, k, v = q.view(H, 1, -1), k.view(H, -1), v.view(H, -1)
            kc, vc = cache[i]
            kc[:, pos], vc[:, pos] = k, v
            w = torch.softmax(q @ kc[:, :pos + 1].transpose(1, 2) / math.sqrt(q.shape[-1]), dim=-1)
            o = (w @ vc[:, :pos + 1]).reshape(-1)
            h = h + attn.out_proj(o)
            h = h + down(self.gelu(up(ln2(h))))
        return self.head(self.ln(h))


class ResNet(nn.Module):
    """dlrun's resnet: conv 3x3 (widths[0]) + batch norm + ReLU, then per
    width per_stage basic blocks (x + BN(conv(ReLU(BN(conv(x))))), then
    ReLU; the first block of each later stage strided, with a 1x1 strided
    convolution and batch norm as its shortcut), global average pool,
    dense; convolutions without bias, Glorot-uniform as dlrun's (and the
    dense layer's zero bias). Parameter names are dlrun's."""

    def __init__(self, outputs=10, widths=(32, 64), per_stage=2):
        super().__init__()
        name = Namer(self)

        def conv(c, f, k, s):
            m = nn.Conv2d(c, f, k, stride=s, padding=k // 2, bias=False)
            nn.init.xavier_uniform_(m.weight)
            return name("conv2d", m)

        keep(self, stem=(conv(1, widths[0], 3, 1), name("batchnorm", nn.BatchNorm2d(widths[0]))))
        name("relu")
        self.blocks, c = [], widths[0]
        for i, w in enumerate(widths):
            for b in range(per_stage):
                s = 2 if i > 0 and b == 0 else 1
                name("residual")
                c1 = conv(c, w, 3, s)
                b1 = name("batchnorm", nn.BatchNorm2d(w))
                name("relu")
                c2 = conv(w, w, 3, 1)
                b2 = name("batchnorm", nn.BatchNorm2d(w))
                short = None
                if s != 1:
                    short = (conv(c, w, 1, 2), name("batchnorm", nn.BatchNorm2d(w)))
                name("relu")
                self.blocks.append((c1, b1, c2, b2, short))
                c = w
        keep(self, head=name("dense", nn.Linear(c, outputs)))
        nn.init.xavier_uniform_(self.head.weight)
        nn.init.zeros_(self.head.bias)

    def forward(self, x):
        x = torch.relu(self.stem[1](self.stem[0](x)))
        for c1, b1, c2, b2, short in self.blocks:
            y = b2(c2(torch.relu(b1(c1(x)))))
            x = torch.relu(y + (x if short is None else short[1](short[0](x))))
        return self.head(x.mean((2, 3)))


def warmup_cosine(warmup, steps):
    """dlrun's warmup_cosine as a LambdaLR factor of the step (from 0):
    (s+1)/warmup during the warm-up, then (1 + cos(pi p))/2 with
    p = (s - warmup)/(steps - warmup)."""
    def f(s):
        if s < warmup:
            return (s + 1) / warmup
        if steps - warmup <= 0:
            return 1.0
        return (1 + math.cos(math.pi * min((s - warmup) / (steps - warmup), 1.0))) / 2
    return f


def chunk_pass(model, tokens, batch, seq_len, lossf, opt=None, sched=None, clip=0.0, limit=None, on_step=None, on_loss=None):
    """One pass of dlrun's train.NextToken over tokens for a model without
    carried state (the transformer): batch contiguous streams, chunks of
    seq_len steps, the last one shorter. on_loss, if set, is called with
    each training step's loss. It returns (loss, accuracy)."""
    n = (len(tokens) - 1) // batch
    x = tokens[:batch * n].view(batch, n)
    y = torch.stack([tokens[b * n + 1:b * n + n + 1] for b in range(batch)])
    total, correct, count, steps = 0.0, 0, 0, 0
    for lo in range(0, n, seq_len):
        if limit is not None and steps >= limit:
            break
        xb, yb = x[:, lo:lo + seq_len], y[:, lo:lo + seq_len]
        logits, _ = model(xb)
        loss = lossf(logits.reshape(-1, logits.shape[-1]), yb.reshape(-1))
        if opt is not None:
            opt.zero_grad()
            loss.backward()
            if clip > 0:
                nn.utils.clip_grad_norm_(model.parameters(), clip)
            opt.step()
            if sched is not None:
                sched.step()
        steps += 1
        if on_step is not None:
            on_step()
        if on_loss is not None and opt is not None:
            on_loss(loss.item())
        k = yb.numel()
        total += loss.item() * k
        correct += (logits.argmax(-1) == yb).sum().item()
        count += k
    return total / max(count, 1), correct / max(count, 1)


def make_optimizer(args, params, steps):
    if args.optimizer == "adamw":
        opt = torch.optim.AdamW(params, lr=args.lr, weight_decay=args.weight_decay or 0.01)
    else:
        opt = torch.optim.Adam(params, lr=args.lr)
    sched = None
    if args.lr_schedule == "warmup_cosine":
        sched = torch.optim.lr_scheduler.LambdaLR(opt, warmup_cosine(args.warmup, steps))
    return opt, sched


def run_gpt(args):
    if args.data.endswith("fashion-mnist"):
        args.data = os.path.join(os.path.dirname(__file__), "..", "datasets", "data", "austen", "prideprejudice.txt.gz")
    vocab, train, held = load_text(args.data)
    lossf = nn.CrossEntropyLoss()
    if args.load:
        # Parity: dlrun's trained weights, its batch and context, its
        # held-out passes.
        with open(os.path.join(args.load, "model.json")) as f:
            info = json.load(f)
        T, B = info["input_shape"][0], info["batch_size"]
        model = GPT(len(vocab), T)
        if args.dtype == "float64":
            model = model.double()
        model.load_dlrun(os.path.join(args.load, "model.safetensors"))
        model.eval()
        with torch.no_grad():
            loss_v, acc = chunk_pass(model, held, B, T, lossf)
        print(json.dumps({"framework": "pytorch " + torch.__version__, "model": "gpt", "loaded": args.load,
                          "dtype": args.dtype, "test_loss": loss_v, "bits_per_char": loss_v / math.log(2), "test_accuracy": acc}))
        return
    model = GPT(len(vocab), args.seq_len)
    if args.dtype == "float64":
        model = model.double()
    if args.save_init:
        model.save_dlrun(args.save_init)
        return
    if args.init:
        # dlrun's initial weights (bench/transformer -init DIR) instead
        # of this seed's draw: the same start as dlrun's training.
        model.load_dlrun(os.path.join(args.init, "model.safetensors"))
    if args.generate:
        return time_generation(args, model, train)
    per_epoch = -(-((len(train) - 1) // args.batch) // args.seq_len)
    opt, sched = make_optimizer(args, model.parameters(), per_epoch * args.epochs)
    if args.steps:
        return time_steps(args, model, lambda on_step, limit: chunk_pass(
            model, train, args.batch, args.seq_len, lossf, opt, sched, args.clip_norm, limit, on_step), args.batch * args.seq_len)
    train_secs, loss_v, acc = 0.0, 0.0, 0.0
    logged = [0]

    def log_step(loss):
        if logged[0] < args.log_steps:
            logged[0] += 1
            print(f"step {logged[0]} loss {loss:.9g}", file=sys.stderr)
    for epoch in range(args.epochs):
        model.train()
        t0 = time.perf_counter()
        train_loss, _ = chunk_pass(model, train, args.batch, args.seq_len, lossf, opt, sched, args.clip_norm,
                                   on_loss=log_step)
        train_secs += time.perf_counter() - t0
        model.eval()
        with torch.no_grad():
            loss_v, acc = chunk_pass(model, held, args.batch, args.seq_len, lossf)
        print(f"epoch {epoch + 1}/{args.epochs} train_loss {train_loss:.4f} test_loss {loss_v:.4f} "
              f"test_bits_per_char {loss_v / math.log(2):.4f} test_acc {acc:.4f} ({train_secs:.0f} s training)", file=sys.stderr)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({
        "framework": "pytorch " + torch.__version__, "model": "gpt", "epochs": args.epochs,
        "batch_size": args.batch, "seq_len": args.seq_len, "threads": args.threads,
        "openblas_threads": os.environ.get("OPENBLAS_NUM_THREADS", ""),
        "test_accuracy": acc, "test_loss": loss_v, "test_bits_per_char": loss_v / math.log(2),
        "samples_per_sec": len(train) * args.epochs / train_secs, "peak_rss_bytes": rss}))


def time_steps(args, model, one_pass, per_step):
    """Times three windows of args.steps training steps after three
    warm-up steps and prints their median throughput."""
    marks, done = [], [0]

    def on_step():
        done[0] += 1
        if done[0] == 3 or (done[0] > 3 and (done[0] - 3) % args.steps == 0):
            marks.append(time.perf_counter())
    model.train()
    while len(marks) < 4:
        one_pass(on_step, 3 + 3 * args.steps - done[0])
    rates = sorted(per_step * args.steps / (marks[i] - marks[i - 1]) for i in range(1, 4))
    print(json.dumps({"framework": "pytorch " + torch.__version__, "model": args.model, "threads": args.threads,
                      "openblas_threads": os.environ.get("OPENBLAS_NUM_THREADS", ""),
                      "samples_per_sec": rates, "median": rates[1]}))


def time_generation(args, model, train):
    """Per-token time of cached generation at batch 1 (model.eval(),
    no_grad): positions 10 and 120, medians of 200 sequences, and tokens
    per second over whole sequences of seq_len."""
    model.eval()
    T, H = args.seq_len, model.blocks[0][1].num_heads
    D = model.embed.weight.shape[1] // H
    at, tokens = {10: [], 120: []}, 0
    start = time.perf_counter()
    for _ in range(200):
        cache = [(torch.zeros(H, T, D), torch.zeros(H, T, D)) for _ in model.blocks]
        for pos in range(T):
            t0 = time.perf_counter()
            model.step_cached(int(train[pos]), pos, cache)
            if pos in at:
                at[pos].append(time.perf_counter() - t0)
            tokens += 1
    rate = tokens / (time.perf_counter() - start)
    print(json.dumps({"framework": "pytorch " + torch.__version__, "model": "gpt", "mode": "generate", "threads": args.threads,
                      "us_per_token": {str(p): float(np.median(v)) * 1e6 for p, v in at.items()}, "tokens_per_sec": rate}))


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
    ap.add_argument("--model", default="cnn", choices=["mlp", "cnn", "cnn-bn", "rnn", "gru", "charrnn", "mf", "ncf", "biases", "gpt", "resnet"])
    ap.add_argument("--seq-len", type=int, default=100, help="charrnn: steps of backpropagation through time per batch; gpt: context")
    ap.add_argument("--cell", default="lstm", choices=["lstm", "gru"], help="charrnn: recurrent cell")
    ap.add_argument("--dim", type=int, default=32, help="mf: embedding size")
    ap.add_argument("--weight-decay", type=float, default=0.0,
                    help="mf, ncf, biases: L2 on each batch's embedding rows and biases, averaged over the batch (dlrun's); "
                         "with --optimizer adamw: its decoupled decay (0: 0.01)")
    ap.add_argument("--optimizer", default="adam", choices=["adam", "adamw"], help="gpt, resnet: the optimizer")
    ap.add_argument("--clip-norm", type=float, default=0.0, help="gpt, resnet: clip_grad_norm_ (0: off)")
    ap.add_argument("--warmup", type=int, default=0, help="--lr-schedule warmup_cosine: warm-up steps")
    ap.add_argument("--steps", type=int, default=0, help="gpt, resnet: time three windows of this many training steps and stop")
    ap.add_argument("--load", default="", help="gpt: held-out loss of a dlrun run folder's weights (the parity check)")
    ap.add_argument("--dtype", default="float32", choices=["float32", "float64"], help="gpt: the net's dtype (for --load, the loaded net's)")
    ap.add_argument("--init", default="", help="gpt: train from the initial weights that bench/transformer -init DIR saved (dlrun's draw)")
    ap.add_argument("--save-init", default="", help="gpt: save this seed's initial weights as a dlrun model.safetensors in this folder (for bench/transformer -from) and stop")
    ap.add_argument("--log-steps", type=int, default=0, help="gpt: print the loss of each of the first this many training steps")
    ap.add_argument("--generate", action="store_true", help="gpt: time cached generation at batch 1")
    ap.add_argument("--data", default=os.path.join(os.path.dirname(__file__), "..", "datasets", "data", "fashion-mnist"),
                    help="IDX folder; mf, ncf, biases: MovieLens folder; charrnn: a UTF-8 text file, gzipped or not (default: the bundled novel)")
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--lr-schedule", default="constant", choices=["constant", "cosine", "warmup_cosine"],
                    help="cosine: CosineAnnealingLR with T_max = epochs, stepped per epoch (dlrun's cosine); "
                         "warmup_cosine: dlrun's, per step")
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
    if args.model == "gpt":
        return run_gpt(args)
    xs, ys, xt, yt = load(args.data)
    model = {"mlp": MLP, "cnn": CNN, "cnn-bn": CNNBN, "rnn": lambda: RNN("lstm"), "gru": lambda: RNN("gru"), "resnet": ResNet}[args.model]()
    steps = -(-len(xs) // args.batch) * args.epochs
    opt, step_sched = make_optimizer(args, model.parameters(), steps)
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
            if args.clip_norm > 0:
                nn.utils.clip_grad_norm_(model.parameters(), args.clip_norm)
            opt.step()
            if step_sched is not None:
                step_sched.step()
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
