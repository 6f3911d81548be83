#!/usr/bin/env bash
# The speed budget of shot detection: 25 fps video at 20x real time on 2
# cores is 500 frames/s, so 2 x 1000 / 500 = 4 ms of CPU per frame for
# decoding, scaling and the model together.
#
# First it measures decoding and scaling alone, as the video package runs
# them (ffmpeg, scale=48:27:flags=area,rgb24 to a pipe, nothing else), at
# three sizes of H.264 (testsrc2, libx264 veryfast CRF 23), with 1, 2 and
# ffmpeg's own choice of decoding threads (auto: the cores and one more),
# each with the deblocking filter and without it (video.Options.Fast,
# -skip_loop_filter all): CPU milliseconds per frame (user + system,
# which a busy machine disturbs less than wall time) and the multiple of
# real time that wall time gives. One thread decodes with the least CPU a
# frame, so its figure bounds any way of spreading the decoding over 2
# cores: 2 x 1000 / (ms a frame) frames a second at most. The "halves" line
# spreads it so: two single-threaded ffmpeg processes at once, each on half
# of the clip, split at the key frame nearest its middle (the frames they
# give together are checked to be those of one decoder).
#
# Given a dlrun binary, it then times `dlrun cuts` (the bundled detector)
# on the same clips, three times each: wall seconds, CPU seconds, peak
# memory and the multiple of real time of the median run.
#
#   bash bench/shots_speed.sh [seconds [dlrun]]
#
# Wall times and multiples of real time mean something only on a quiet
# machine; CPU milliseconds per frame hold under load.
set -euo pipefail
secs=${1:-10}
dlrun=${2:-}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
frames=$((secs * 25))
for size in 1920x1080 1280x720 854x480; do
  ffmpeg -nostdin -v error -f lavfi -i "testsrc2=size=$size:rate=25:duration=$secs" \
    -c:v libx264 -preset veryfast -crf 23 -pix_fmt yuv420p "$dir/$size.mp4"
  for threads in 1 2 auto; do
    for fast in no yes; do
      opt=(-threads "$threads")
      [ $threads = auto ] && opt=()
      [ $fast = yes ] && opt+=(-skip_loop_filter all)
      out=$( { /usr/bin/time -f '%U %S %e' ffmpeg -nostdin -v error "${opt[@]}" -i "$dir/$size.mp4" \
        -map 0:v:0 -fps_mode passthrough -vf scale=48:27:flags=area,format=rgb24 \
        -f rawvideo -pix_fmt rgb24 pipe:1 >/dev/null; } 2>&1 )
      read -r u s e <<<"$out"
      awk -v sz="$size" -v t="$threads" -v f="$fast" -v u="$u" -v s="$s" -v e="$e" -v n="$frames" \
        'BEGIN { printf "decode %-9s threads=%-4s fast=%-3s %6.2f ms CPU/frame  %5.1fx real time\n", sz, t, f, 1000*(u+s)/n, n/25/e }'
    done
  done
  vf=(-map 0:v:0 -fps_mode passthrough -vf scale=48:27:flags=area,format=rgb24 -f rawvideo -pix_fmt rgb24)
  mid=$(ffprobe -v error -select_streams v:0 -show_entries packet=pts_time,flags -of csv=p=0 "$dir/$size.mp4" |
    awk -F, -v h="$secs" '$2 ~ /K/ && $1 > 0 { d = $1 - h / 2; if (d < 0) d = -d; if (best == "" || d < bd) { best = $1; bd = d } } END { print best }')
  [ -n "$mid" ] || continue
  out=$( { /usr/bin/time -f '%U %S %e' bash -c 'ffmpeg -nostdin -v error -threads 1 -to "$2" -i "$1" "${@:3}" "$1.a" &
    ffmpeg -nostdin -v error -threads 1 -ss "$2" -i "$1" "${@:3}" "$1.b"; wait' _ "$dir/$size.mp4" "$mid" "${vf[@]}"; } 2>&1 )
  read -r u s e <<<"$out"
  one=$(ffmpeg -nostdin -v error -i "$dir/$size.mp4" "${vf[@]}" pipe:1 | md5sum)
  two=$(cat "$dir/$size.mp4.a" "$dir/$size.mp4.b" | md5sum)
  same=yes
  [ "$one" = "$two" ] || same=NO
  rm -f "$dir/$size.mp4.a" "$dir/$size.mp4.b"
  awk -v sz="$size" -v m="$mid" -v u="$u" -v s="$s" -v e="$e" -v n="$frames" -v same="$same" \
    'BEGIN { printf "decode %-9s halves at %gs, 1 thread each: %6.2f ms CPU/frame  %5.1fx real time  frames as one decoder: %s\n", sz, m, 1000*(u+s)/n, n/25/e, same }'
done
[ -n "$dlrun" ] || exit 0
for size in 1920x1080 1280x720 854x480; do
  for run in 1 2 3; do
    { /usr/bin/time -f '%e %U %S %M' "$dlrun" cuts "$dir/$size.mp4" >/dev/null; } 2>&1 | tail -1
  done | sort -n | sed -n 2p | awk -v sz="$size" -v secs="$secs" \
    '{ printf "dlrun cuts %-9s median of 3: %5.2f s wall %5.2f s CPU %4.0f MB peak  %5.1fx real time\n", sz, $1, $2+$3, $4/1024, secs/$1 }'
done
