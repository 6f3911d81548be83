#!/usr/bin/env bash
# Regenerates the pictures of docs/explain.md in docs/explain/: the
# reference cnn trained by its recipe (dlrun train --model cnn, 10 epochs)
# explained on its first two test images by each method; a character model
# (charrnn, one epoch) explained on a sentence, as its HTML page looks in
# headless Chromium; mf's top recommendation for user 1 explained by the
# user's ratings; xor's features ranked; a regression of the Boston house
# prices (python3-sklearn's CSV), one row explained and its features
# ranked. Takes a few minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=docs/explain
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/dlrun" ./cmd/dlrun
dlrun() { "$tmp/dlrun" "$@"; }

dlrun train --model cnn --out "$tmp/cnn" >/dev/null
# --board writes test-N-<method>.png; each call replaces the last's of its name.
for n in 1 2; do
  dlrun explain --run "$tmp/cnn" --board --examples 2 --method saliency >/dev/null
  cp "$tmp/cnn/explanations/test-$n-saliency.png" "$out/cnn-test-$n-saliency.png"
  dlrun explain --run "$tmp/cnn" --board --examples 2 --method occlusion >/dev/null
  cp "$tmp/cnn/explanations/test-$n-occlusion.png" "$out/cnn-test-$n-occlusion.png"
  dlrun explain --run "$tmp/cnn" --board --examples 2 >/dev/null
  cp "$tmp/cnn/explanations/test-$n-integrated-gradients.png" "$out/cnn-test-$n-ig.png"
  dlrun explain --run "$tmp/cnn" --board --examples 2 --baseline blur >/dev/null
  cp "$tmp/cnn/explanations/test-$n-integrated-gradients.png" "$out/cnn-test-$n-ig-blur.png"
done

dlrun train --model charrnn --epochs 1 --out "$tmp/charrnn" >/dev/null
dlrun explain --run "$tmp/charrnn" -o "$tmp/text.html" \
  "It is a truth universally acknowledged, that a single man in possession of a good fortune, must be in want of a wif"
chromium --headless=new --no-sandbox --disable-gpu --hide-scrollbars --window-size=900,330 \
  --screenshot="$out/charrnn-text.png" "file://$tmp/text.html" 2>/dev/null

dlrun train --model mf --out "$tmp/mf" >/dev/null
dlrun explain --run "$tmp/mf" 1 -o "$tmp/mf-out" >/dev/null
cp "$tmp"/mf-out/user-1-movie-*-ratings.png "$out/mf-user-1.png"

dlrun train --model xor --out "$tmp/xor" >/dev/null
dlrun explain --run "$tmp/xor" --importance -o "$tmp/xor-out" >/dev/null
cp "$tmp/xor-out/importance.png" "$out/xor-importance.png"

# Its first line is "rows,columns,...": the header is the second.
tail -n +2 /usr/lib/python3/dist-packages/sklearn/datasets/data/boston_house_prices.csv > "$tmp/boston.csv"
head -2 "$tmp/boston.csv" > "$tmp/row.csv"
dlrun train --data "$tmp/boston.csv" --target MEDV --fill mean --epochs 40 --out "$tmp/boston" >/dev/null
(cd "$tmp" && dlrun explain --run boston row.csv -o boston-row >/dev/null) # the picture names row.csv
cp "$tmp/boston-row/row-integrated-gradients.png" "$out/boston-row.png"
dlrun explain --run "$tmp/boston" --importance -o "$tmp/boston-importance" >/dev/null
cp "$tmp/boston-importance/importance.png" "$out/boston-importance.png"
ls -l "$out"/*.png
