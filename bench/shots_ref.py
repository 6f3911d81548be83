#!/usr/bin/env python3
"""PyTorch 1.13 reference for dlrun's learned shot-boundary detector.

Trains a small TransNetV2-like net on the synthetic clips that
video/synth/shotsynth writes, and scores it, beside the content baseline
(PySceneDetect's ContentDetector as bench/shotbase runs it), on the held-out
test clips:

    go run ./video/synth/shotsynth -out /tmp/shots -seed 1
    go run ./bench/shotbase /tmp/shots/test > /tmp/shots/content.jsonl
    /usr/bin/python3 bench/shots_ref.py --data /tmp/shots --content /tmp/shots/content.jsonl

The net, per frame: a 48x27 RGB thumbnail (decoded and scaled by ffmpeg
exactly as the video package does: scale=48:27:flags=area, rgb24) goes
through three 3x3 stride-2 convolutions with ReLU (3->16->32->64 channels,
to 7x4), a dense layer to 64 features; then the sequence of frame features
goes through four residual dilated temporal convolutions (kernel 3,
dilations 1, 2, 4, 8, 64 channels, ReLU), so each frame sees 31 frames
around it, and two 1x1 heads give per-frame logits: "single" (the frame
at the centre of a transition; a hard cut's first new frame) and "all"
(every frame of a transition, an auxiliary target as in TransNetV2).

Detections: runs of frames whose "single" probability is at or above the
threshold, each reported at its most probable frame. A detection matches a
true transition when it lies within 2 frames of it (from its first frame
minus 2 to its last frame plus 2); each transition and each detection
matches at most once, in order. F1 per kind counts that kind's matched and
missed transitions, and every unmatched detection as a false positive of
both kinds. It prints one JSON line with the figures.
"""
import argparse
import glob
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

W, H = 48, 27


def decode(path, w=W, h=H):
    """Frames of a video as uint8 [T, h, w, 3], as the video package decodes them."""
    out = subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-i", path, "-map", "0:v:0", "-fps_mode", "passthrough",
         "-vf", f"scale={w}:{h}:flags=area,format=rgb24", "-f", "rawvideo", "-pix_fmt", "rgb24", "pipe:1"],
        check=True, stdout=subprocess.PIPE).stdout
    return np.frombuffer(out, np.uint8).reshape(-1, h, w, 3)


def load_split(folder, cache):
    """Frames and labels of every clip in folder, cached as an .npz."""
    if cache and os.path.exists(cache):
        z = np.load(cache, allow_pickle=True)
        return list(z["frames"]), list(z["labels"])
    frames, labels = [], []
    for js in sorted(glob.glob(os.path.join(folder, "clip-*.json"))):
        lab = json.load(open(js))
        f = decode(os.path.join(folder, lab["clip"]))
        assert len(f) == lab["frames"], (js, len(f), lab["frames"])
        frames.append(f)
        labels.append(lab)
    if cache:
        np.savez(cache, frames=np.array(frames, dtype=object), labels=np.array(labels, dtype=object))
    return frames, labels


def targets(lab):
    """Per-frame targets: single (transition centres) and all (transition frames)."""
    n = lab["frames"]
    one, every = np.zeros(n, np.float32), np.zeros(n, np.float32)
    for t in lab["transitions"]:
        one[(t["start"] + t["end"]) // 2] = 1
        every[t["start"]:t["end"] + 1] = 1
    return one, every


def shifted(x, k):
    """x [B, T, ...] moved k frames later (k > 0) or earlier, edges repeated."""
    if k == 0:
        return x
    t = x.shape[1]
    idx = torch.clamp(torch.arange(t) - k, 0, t - 1)
    return x[:, idx]


def hand_features(frames):
    """Per-frame change cues [B, T, 12], computed (not learned) from uint8
    frames [B, T, 27, 48, 3]: the L1 distance between 4x4x4-bin RGB
    histograms at lags -3..-1 and 1..3, the mean absolute difference of a
    4x3 grid of cell colours at lags -2, -1, 1, 2, and of the whole
    thumbnail at lags -1 and 1. Values lie in [0, 2] and [0, 1]."""
    b, t = frames.shape[:2]
    x = frames.float() / 255
    q = (frames // 64).long()  # 4 levels per channel
    bins = q[..., 0] * 16 + q[..., 1] * 4 + q[..., 2]
    bins = bins.reshape(b * t, -1)
    hist = torch.zeros(b * t, 64).scatter_add_(1, bins, torch.ones(bins.shape)).reshape(b, t, 64) / bins.shape[1]
    grid = F.adaptive_avg_pool2d(x.reshape(b * t, H, W, 3).permute(0, 3, 1, 2), (3, 4)).reshape(b, t, -1)
    out = []
    for k in (-3, -2, -1, 1, 2, 3):
        out.append((hist - shifted(hist, k)).abs().sum(-1))
    for k in (-2, -1, 1, 2):
        out.append((grid - shifted(grid, k)).abs().mean(-1) * 4)
    for k in (-1, 1):
        out.append((x - shifted(x, k)).abs().mean((2, 3, 4)) * 4)
    return torch.stack(out, -1)


HAND = 12


class ShotNet(nn.Module):
    def __init__(self, feat=64, chans=64, dilations=(1, 2, 4, 8), hand=True):
        super().__init__()
        self.hand = hand
        self.c1 = nn.Conv2d(3, 16, 3, stride=2, padding=1)
        self.c2 = nn.Conv2d(16, 32, 3, stride=2, padding=1)
        self.c3 = nn.Conv2d(32, 64, 3, stride=2, padding=1)
        self.fc = nn.Linear(64 * 4 * 6, feat)
        self.inp = nn.Conv1d(feat + (HAND if hand else 0), chans, 1)
        self.temporal = nn.ModuleList(nn.Conv1d(chans, chans, 3, dilation=d, padding=d) for d in dilations)
        self.single = nn.Conv1d(chans, 1, 1)
        self.all = nn.Conv1d(chans, 1, 1)

    def frame_features(self, x):
        # x: [N, 3, 27, 48] in [0, 1]
        x = F.relu(self.c1(x))
        x = F.relu(self.c2(x))
        x = F.relu(self.c3(x))
        return F.relu(self.fc(x.flatten(1)))

    def forward(self, frames):
        # frames: [B, T, 27, 48, 3] uint8 -> logits [B, T] twice
        b, t = frames.shape[:2]
        x = frames.reshape(b * t, H, W, 3).permute(0, 3, 1, 2).float() / 255
        f = self.frame_features(x).reshape(b, t, -1)
        if self.hand:
            f = torch.cat([f, hand_features(frames)], -1)
        h = F.relu(self.inp(f.transpose(1, 2)))
        for conv in self.temporal:
            h = h + F.relu(conv(h))
        return self.single(h)[:, 0], self.all(h)[:, 0]


def detections(prob, threshold, gap=6):
    """Frames at the peaks of runs of prob >= threshold; runs less than gap
    frames apart are one run (a gradual transition's probability may dip)."""
    above = np.flatnonzero(prob >= threshold)
    out, s = [], 0
    for i in range(1, len(above) + 1):
        if i == len(above) or above[i] - above[i - 1] >= gap:
            run = above[s:i]
            out.append(int(run[np.argmax(prob[run])]))
            s = i
    return out


def match(dets, lab, tol=2):
    """Per kind (cut, gradual): matched and missed transitions; unmatched
    detections, and of them those within 2 frames of a hard negative."""
    trans = sorted(lab["transitions"], key=lambda t: t["start"])
    used = [False] * len(trans)
    fp = 0
    negs = {}
    for d in sorted(dets):
        hit = None
        for i, t in enumerate(trans):
            if not used[i] and t["start"] - tol <= d <= t["end"] + tol:
                hit = i
                break
        if hit is None:
            fp += 1
            for n in lab["negatives"]:
                if n["start"] - tol <= d <= n["end"] + tol:
                    negs[n["kind"]] = negs.get(n["kind"], 0) + 1
                    break
        else:
            used[hit] = True
    tp = {"cut": 0, "gradual": 0}
    fn = {"cut": 0, "gradual": 0}
    for u, t in zip(used, trans):
        k = "cut" if t["kind"] == "cut" else "gradual"
        if u:
            tp[k] += 1
        else:
            fn[k] += 1
    return tp, fn, fp, negs


def f1_table(all_dets, labels):
    tp = {"cut": 0, "gradual": 0}
    fn = {"cut": 0, "gradual": 0}
    fp = 0
    negs = {}
    for dets, lab in zip(all_dets, labels):
        a, b, c, d = match(dets, lab)
        for k in tp:
            tp[k] += a[k]
            fn[k] += b[k]
        fp += c
        for k, v in d.items():
            negs[k] = negs.get(k, 0) + v
    out = {}
    for k in tp:
        p = tp[k] / max(1, tp[k] + fp)
        r = tp[k] / max(1, tp[k] + fn[k])
        out[k] = {"f1": 0 if p + r == 0 else 2 * p * r / (p + r), "precision": p, "recall": r,
                  "tp": tp[k], "fn": fn[k]}
    t_all, f_all = tp["cut"] + tp["gradual"], fn["cut"] + fn["gradual"]
    p, r = t_all / max(1, t_all + fp), t_all / max(1, t_all + f_all)
    out["all"] = {"f1": 0 if p + r == 0 else 2 * p * r / (p + r), "precision": p, "recall": r, "fp": fp,
                  "fp_at_negatives": negs}
    return out


def predict(model, frames, chunk=400, context=32):
    """Per-frame single-head probabilities over a whole clip, in chunks with context."""
    model.eval()
    n = len(frames)
    out = np.zeros(n, np.float32)
    with torch.no_grad():
        for s in range(0, n, chunk):
            a, b = max(0, s - context), min(n, s + chunk + context)
            x = torch.from_numpy(np.ascontiguousarray(frames[a:b]))[None]
            p = torch.sigmoid(model(x)[0])[0].numpy()
            out[s:min(n, s + chunk)] = p[s - a:s - a + min(chunk, n - s)]
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", required=True, help="folder shotsynth wrote (train/, test/)")
    ap.add_argument("--content", help="bench/shotbase's JSON lines for the test clips")
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--window", type=int, default=48)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--pos-weight", type=float, default=5.0)
    ap.add_argument("--threshold", type=float, default=0.4)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--save", help="write the trained state dict here")
    ap.add_argument("--no-hand", action="store_true", help="learned frame features only")
    ap.add_argument("--load", help="skip training: score this saved state dict")
    ap.add_argument("--bench", action="store_true", help="also time inference per frame")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)

    t0 = time.time()
    tr_frames, tr_labels = load_split(os.path.join(args.data, "train"), os.path.join(args.data, "train48.npz"))
    te_frames, te_labels = load_split(os.path.join(args.data, "test"), os.path.join(args.data, "test48.npz"))
    load_s = time.time() - t0
    tr_targets = [targets(l) for l in tr_labels]

    model = ShotNet(hand=not args.no_hand)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, args.steps)
    pw = torch.tensor(args.pos_weight)
    t0 = time.time()
    lengths = np.array([len(f) for f in tr_frames])
    if args.load:
        model.load_state_dict(torch.load(args.load))
        args.steps = 0
    for step in range(args.steps):
        xb, yb1, yba = [], [], []
        for _ in range(args.batch):
            c = rng.integers(len(tr_frames))
            s = rng.integers(0, lengths[c] - args.window + 1)
            x = tr_frames[c][s:s + args.window]
            if rng.random() < 0.5:  # mirror
                x = x[:, :, ::-1]
            xb.append(np.ascontiguousarray(x))
            yb1.append(tr_targets[c][0][s:s + args.window])
            yba.append(tr_targets[c][1][s:s + args.window])
        x = torch.from_numpy(np.stack(xb))
        y1, ya = torch.from_numpy(np.stack(yb1)), torch.from_numpy(np.stack(yba))
        model.train()
        l1, la = model(x)
        loss = F.binary_cross_entropy_with_logits(l1, y1, pos_weight=pw) + \
            0.1 * F.binary_cross_entropy_with_logits(la, ya, pos_weight=pw)
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % 100 == 0:
            print(f"step {step} loss {loss.item():.4f} {time.time() - t0:.0f}s", file=sys.stderr, flush=True)
    train_s = time.time() - t0
    if args.save:
        torch.save(model.state_dict(), args.save)

    probs = [predict(model, f) for f in te_frames]
    learned = f1_table([detections(p, args.threshold) for p in probs], te_labels)
    result = {"train_clips": len(tr_frames), "train_frames": int(lengths.sum()),
              "test_clips": len(te_frames), "test_frames": int(sum(len(f) for f in te_frames)),
              "params": sum(p.numel() for p in model.parameters()), "steps": args.steps,
              "train_s": round(train_s, 1), "load_s": round(load_s, 1), "learned": learned}
    # The threshold's effect, for choosing one.
    result["learned_by_threshold"] = {
        str(th): f1_table([detections(p, th) for p in probs], te_labels)["all"]["f1"] for th in (0.3, 0.4, 0.5, 0.6, 0.7)}
    if args.content:
        by_clip = {}
        for line in open(args.content):
            d = json.loads(line)
            by_clip[d["clip"]] = d["cuts"]
        result["content"] = f1_table([by_clip[l["clip"]] for l in te_labels], te_labels)
    if args.bench:
        x = torch.from_numpy(np.ascontiguousarray(te_frames[0][:400]))[None]
        model.eval()
        with torch.no_grad():
            model(x)
            t0 = time.time()
            for _ in range(5):
                model(x)
            result["infer_frames_per_s"] = round(5 * 400 / (time.time() - t0))
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(json.dumps(result))


if __name__ == "__main__":
    main()
