#!/usr/bin/env bash
# Data-parallel throughput: trains each model for 2 epochs (charrnn: 1)
# under `mpirun -np N` for each N given, REPEATS times, and prints the
# training samples/s of each run (summary.json's samples_per_sec: the
# examples of every epoch over the time of the training steps,
# evaluation left out), then the median. Processes are not bound to cores
# (--bind-to none; Open MPI binds each of 2 or fewer processes to one core
# by default, which halves one process's speed on this 2-core machine);
# dlrun gives each its share of the host's cores (GOMAXPROCS). Needs dlrun built with
# -tags mpi (it builds one) and Debian's openmpi-bin.
#
#   bash bench/mpi/throughput.sh                 # mlp cnn cnn-bn rnn mf ncf, N = 1 2, 3 repeats
#   MODELS="cnn" NS="1 2" REPEATS=1 bash bench/mpi/throughput.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
MODELS=${MODELS:-"mlp cnn cnn-bn rnn mf ncf"}
NS=${NS:-"1 2"}
REPEATS=${REPEATS:-3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -tags mpi -o "$tmp/dlrun" ./cmd/dlrun
root=()
[ "$(id -u)" = 0 ] && root=(--allow-run-as-root)
printf "%-8s %3s  %-40s %s\n" model N "samples/s, each run" median
for m in $MODELS; do
  epochs=2
  [ "$m" = charrnn ] && epochs=1
  for n in $NS; do
    rates=()
    for r in $(seq "$REPEATS"); do
      out="$tmp/$m-$n-$r"
      mpirun "${root[@]}" --oversubscribe --bind-to none -np "$n" "$tmp/dlrun" train --model "$m" --epochs "$epochs" --out "$out" >/dev/null 2>&1
      rate=$(sed -n 's/.*"samples_per_sec": *\([0-9.e+]*\).*/\1/p' "$out/summary.json" | awk '{printf "%.0f", $1}')
      rates+=("$rate")
    done
    median=$(printf "%s\n" "${rates[@]}" | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}')
    printf "%-8s %3s  %-40s %s\n" "$m" "$n" "${rates[*]}" "$median"
  done
done
