#!/usr/bin/env bash
# The whole image-folder plan of docs/performance.md in one command, for a
# quiet machine: writes the 70,000 Fashion-MNIST PNGs and the 2 GB noise
# folder under DIR (default /tmp/dlrun-imagefolder; each only if missing),
# then times the cnn from the PNG folder against the IDX files in memory
# (median of three, taking turns) and trains on the noise folder once for
# its peak RSS. The two reports are printed and kept in DIR/*.txt.
#
#	bash bench/imagefolder/measure.sh [DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=${1:-/tmp/dlrun-imagefolder}
idx=/usr/share/datasets/fashion-mnist
mkdir -p "$dir"
go build -o "$dir/imagefolder" ./bench/imagefolder
[ -d "$dir/fashion-png" ] || "$dir/imagefolder" fashion -idx "$idx" -out "$dir/fashion-png"
[ -d "$dir/noise-2g" ] || "$dir/imagefolder" noise -out "$dir/noise-2g" -bytes 2000000000
"$dir/imagefolder" train -data "$dir/fashion-png" -idx "$idx" | tee "$dir/speed.txt"
"$dir/imagefolder" train -data "$dir/noise-2g" -image-size 32x32 -repeat 1 | tee "$dir/memory.txt"
