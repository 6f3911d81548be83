#!/usr/bin/env bash
# The speed budget of shot detection: 25 fps video at 20x real time on 2
# cores is 500 frames/s, so 2 x 1000 / 500 = 4 ms of CPU per frame for
# decoding, scaling and the model together. This measures the decoding and
# scaling half as the video package runs it (ffmpeg, scale=48:27:flags=area,
# rgb24 to a pipe), with and without Options.Fast (-skip_loop_filter all),
# at three sizes of H.264, as CPU milliseconds per frame (user + system,
# which a busy machine disturbs less than wall time) and frames per
# wall-clock second.
#
#   bash bench/shots_speed.sh [seconds]
set -euo pipefail
secs=${1:-10}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
for size in 1920x1080 1280x720 854x480; do
  ffmpeg -nostdin -v error -f lavfi -i "testsrc2=size=$size:rate=25:duration=$secs" \
    -c:v libx264 -preset veryfast -crf 23 -pix_fmt yuv420p "$dir/$size.mp4"
  frames=$((secs * 25))
  for fast in no yes; do
    opt=()
    [ $fast = yes ] && opt=(-skip_loop_filter all)
    out=$( { /usr/bin/time -f '%U %S %e' ffmpeg -nostdin -v error "${opt[@]}" -i "$dir/$size.mp4" \
      -map 0:v:0 -fps_mode passthrough -vf scale=48:27:flags=area,format=rgb24 \
      -f rawvideo -pix_fmt rgb24 pipe:1 >/dev/null; } 2>&1 )
    read -r u s e <<<"$out"
    awk -v sz="$size" -v f="$fast" -v u="$u" -v s="$s" -v e="$e" -v n="$frames" \
      'BEGIN { printf "%-9s fast=%-3s %6.2f ms CPU/frame  %6.0f frames/s wall\n", sz, f, 1000*(u+s)/n, n/e }'
  done
done
