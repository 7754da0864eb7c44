#!/bin/bash
# Usage: cargo build --release --features torch,tensorflow,xla,candle --example attack && bash benches/threads.sh
# Alternating runs of the attack example: default threads vs EAGER_TENSOR_NUM_THREADS=1,
# quiet and with two busy-loop processes (a busy 2-core machine).
exe=target/release/examples/attack
t() { local s=$(date +%s.%N); "$@" > /dev/null 2>&1; awk -v a="$(date +%s.%N)" -v b="$s" "BEGIN { printf \"%.3f\\n\", a - b }"; }
for load in quiet busy; do
  pids=()
  if [ $load = busy ]; then (while :; do :; done) & pids+=($!); (while :; do :; done) & pids+=($!); fi
  for b in torch tensorflow xla candle; do
    d=(); o=()
    for r in 1 2 3; do
      d+=($(t env -u EAGER_TENSOR_NUM_THREADS $exe --backend $b))
      o+=($(t env EAGER_TENSOR_NUM_THREADS=1 $exe --backend $b))
    done
    echo "$load $b default ${d[*]} | one ${o[*]}"
  done
  for p in "${pids[@]}"; do kill $p; done
done
