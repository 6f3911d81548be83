#!/usr/bin/env python3
"""dlrun on the user's own data, beside PyTorch 1.13 and scikit-learn.

Two data sets that Debian's python3-sklearn ships, written as a user would
bring them:

  table:  the Wisconsin breast-cancer table (569 rows, 30 numeric columns,
          target 0 malignant / 1 benign) as train.csv and test.csv, a
          stratified 80/20 split (scikit-learn's train_test_split,
          random_state=0), the header from load_breast_cancer's feature
          names. dlrun: `dlrun train --data train.csv --test test.csv
          --target target` (the mlp); PyTorch: the same mlp (256, 128, ReLU;
          Adam 1e-3, batch 64) on the same rows standardised with the
          training rows' mean and population std (StandardScaler, as dlrun
          does); scikit-learn: StandardScaler + LogisticRegression.
  diabetes: the diabetes table (442 rows, 10 numeric columns, a disease
          progression to predict) as diabetes-train.csv and diabetes-test.csv
          (80/20, random_state=0): a regression (the target has more than 20
          distinct whole numbers). dlrun: `dlrun train --data
          diabetes-train.csv --test diabetes-test.csv --target target` (the
          mlp, mse on the standardised target); PyTorch: the same mlp and
          standardisation; scikit-learn: LinearRegression. Test RMSE.
  digits: the 1,797 8x8 handwritten digits as PNG files in an image folder
          (train/<digit>/*.png, test/<digit>/*.png, the same kind of split),
          pixel values 0..16 scaled to 0..255. dlrun: `dlrun train --model
          mlp --data digits` (values /255); PyTorch: the same mlp on the PNGs
          read with PIL (values /255).

Each net trains for --epochs epochs with seeds --seeds; the script prints
the test accuracies and RMSEs (mean and standard deviation over the seeds)
as the rows of docs/results.md's "Your own data" tables, and one JSON line
per run.

    /usr/bin/python3 bench/owndata/compare.py --dlrun /tmp/dlrun --out /tmp/owndata

(go build -o /tmp/dlrun ./cmd/dlrun first). OUT must not exist.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

import numpy as np
import torch
import torch.nn as nn
from PIL import Image
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def write_table(out):
    d = load_breast_cancer()
    x_tr, x_te, y_tr, y_te = train_test_split(d.data, d.target, test_size=0.2, stratify=d.target, random_state=0)
    header = ",".join(['"%s"' % n for n in d.feature_names]) + ",target\n"
    paths = []
    for name, x, y in (("train.csv", x_tr, y_tr), ("test.csv", x_te, y_te)):
        path = os.path.join(out, name)
        with open(path, "w") as f:
            f.write(header)
            for row, t in zip(x, y):
                f.write(",".join(repr(float(v)) for v in row) + ",%d\n" % t)
        paths.append(path)
    return paths, (x_tr, y_tr, x_te, y_te)


def write_diabetes(out):
    d = load_diabetes(scaled=False)
    x_tr, x_te, y_tr, y_te = train_test_split(d.data, d.target, test_size=0.2, random_state=0)
    header = ",".join(d.feature_names) + ",target\n"
    paths = []
    for name, x, y in (("diabetes-train.csv", x_tr, y_tr), ("diabetes-test.csv", x_te, y_te)):
        path = os.path.join(out, name)
        with open(path, "w") as f:
            f.write(header)
            for row, t in zip(x, y):
                f.write(",".join(repr(float(v)) for v in row) + ",%d\n" % t)
        paths.append(path)
    return paths, (x_tr, y_tr, x_te, y_te)


def torch_regressor(x_tr, y_tr, x_te, y_te, epochs, seed):
    torch.manual_seed(seed)
    np.random.seed(seed)
    mean, std = y_tr.mean(), y_tr.std()
    net = nn.Sequential(nn.Linear(x_tr.shape[1], 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 1))
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    xt = torch.tensor(x_tr, dtype=torch.float32)
    yt = torch.tensor((y_tr - mean) / std, dtype=torch.float32).reshape(-1, 1)
    for _ in range(epochs):
        perm = torch.randperm(len(xt))
        for i in range(0, len(xt), 64):
            b = perm[i:i + 64]
            opt.zero_grad()
            nn.functional.mse_loss(net(xt[b]), yt[b]).backward()
            opt.step()
    with torch.no_grad():
        pred = net(torch.tensor(x_te, dtype=torch.float32)).numpy().reshape(-1) * std + mean
    return float(np.sqrt(((pred - y_te) ** 2).mean()))


def write_digits(out):
    d = load_digits()
    idx = np.arange(len(d.target))
    tr, te = train_test_split(idx, test_size=0.2, stratify=d.target, random_state=0)
    root = os.path.join(out, "digits")
    for split, ids in (("train", tr), ("test", te)):
        for i in ids:
            folder = os.path.join(root, split, str(d.target[i]))
            os.makedirs(folder, exist_ok=True)
            img = np.round(d.images[i] * 255 / 16).astype(np.uint8)
            Image.fromarray(img, mode="L").save(os.path.join(folder, "%04d.png" % i))
    return root


def read_folder(root, split):
    xs, ys = [], []
    for c in sorted(os.listdir(os.path.join(root, split))):
        folder = os.path.join(root, split, c)
        for name in sorted(os.listdir(folder)):
            img = np.asarray(Image.open(os.path.join(folder, name)).convert("L"), dtype=np.float32) / 255
            xs.append(img.reshape(-1))
            ys.append(int(c))
    return np.stack(xs), np.array(ys)


def torch_mlp(x_tr, y_tr, x_te, y_te, classes, epochs, seed):
    torch.manual_seed(seed)
    np.random.seed(seed)
    net = nn.Sequential(nn.Linear(x_tr.shape[1], 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, classes))
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    xt, yt = torch.tensor(x_tr, dtype=torch.float32), torch.tensor(y_tr)
    for _ in range(epochs):
        perm = torch.randperm(len(xt))
        for i in range(0, len(xt), 64):
            b = perm[i:i + 64]
            opt.zero_grad()
            nn.functional.cross_entropy(net(xt[b]), yt[b]).backward()
            opt.step()
    with torch.no_grad():
        pred = net(torch.tensor(x_te, dtype=torch.float32)).argmax(1).numpy()
    return float((pred == y_te).mean())


def dlrun(binary, out, args, figure="test_accuracy"):
    subprocess.run([binary, "train", "--out", out] + args, check=True, stdout=subprocess.DEVNULL)
    with open(os.path.join(out, "summary.json")) as f:
        return json.load(f)[figure]


def figure(vals, digits=4):
    if len(vals) == 1:
        return "%.*f" % (digits, vals[0])
    return "%.*f ± %.*f" % (digits, statistics.mean(vals), digits, statistics.stdev(vals))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dlrun", required=True, help="the dlrun binary")
    ap.add_argument("--out", required=True, help="a folder to make for the data and runs")
    ap.add_argument("--seeds", default="1,2,3")
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    os.makedirs(a.out)
    seeds = [int(s) for s in a.seeds.split(",")]
    (train_csv, test_csv), (x_tr, y_tr, x_te, y_te) = write_table(a.out)
    (dia_train, dia_test), (rx_tr, ry_tr, rx_te, ry_te) = write_diabetes(a.out)
    rsc = StandardScaler().fit(rx_tr)
    digits = write_digits(a.out)
    dx_tr, dy_tr = read_folder(digits, "train")
    dx_te, dy_te = read_folder(digits, "test")
    sc = StandardScaler().fit(x_tr)
    rows = {}
    for s in seeds:
        for name, acc in (
            ("table/dlrun", dlrun(a.dlrun, os.path.join(a.out, "table-%d" % s), ["--data", train_csv, "--test", test_csv, "--target", "target", "--epochs", str(a.epochs), "--seed", str(s)])),
            ("table/pytorch", torch_mlp(sc.transform(x_tr), y_tr, sc.transform(x_te), y_te, 2, a.epochs, s)),
            ("digits/dlrun", dlrun(a.dlrun, os.path.join(a.out, "digits-%d" % s), ["--model", "mlp", "--data", digits, "--epochs", str(a.epochs), "--seed", str(s)])),
            ("digits/pytorch", torch_mlp(dx_tr, dy_tr, dx_te, dy_te, 10, a.epochs, s)),
            ("diabetes/dlrun", dlrun(a.dlrun, os.path.join(a.out, "diabetes-%d" % s), ["--data", dia_train, "--test", dia_test, "--target", "target", "--epochs", str(a.epochs), "--seed", str(s)], "test_rmse")),
            ("diabetes/pytorch", torch_regressor(rsc.transform(rx_tr), ry_tr, rsc.transform(rx_te), ry_te, a.epochs, s)),
        ):
            rows.setdefault(name, []).append(acc)
            print(json.dumps({"run": name, "seed": s, "figure": acc}), file=sys.stderr)
    lr = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(x_tr, y_tr)
    lr_acc = float(lr.score(x_te, y_te))
    print("| data | rows (train/test) | model | epochs | seeds | dlrun | PyTorch | scikit-learn LogisticRegression |")
    print("|---|---|---|---|---|---|---|---|")
    print("| breast-cancer table (CSV) | %d/%d | mlp | %d | %s | %s | %s | %.4f |" % (len(y_tr), len(y_te), a.epochs, a.seeds, figure(rows["table/dlrun"]), figure(rows["table/pytorch"]), lr_acc))
    print("| digits image folder (PNG, 8x8) | %d/%d | mlp | %d | %s | %s | %s | |" % (len(dy_tr), len(dy_te), a.epochs, a.seeds, figure(rows["digits/dlrun"]), figure(rows["digits/pytorch"])))
    lin = LinearRegression().fit(rx_tr, ry_tr)
    lin_rmse = float(np.sqrt(((lin.predict(rx_te) - ry_te) ** 2).mean()))
    print()
    print("| data | rows (train/test) | model | epochs | seeds | dlrun test RMSE | PyTorch test RMSE | scikit-learn LinearRegression |")
    print("|---|---|---|---|---|---|---|---|")
    print("| diabetes table (CSV), regression | %d/%d | mlp | %d | %s | %s | %s | %.2f |" % (len(ry_tr), len(ry_te), a.epochs, a.seeds, figure(rows["diabetes/dlrun"], 2), figure(rows["diabetes/pytorch"], 2), lin_rmse))


if __name__ == "__main__":
    main()
