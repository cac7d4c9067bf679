#!/bin/bash
# alignment.sh SOFTCHECK ZOO_PLUGIN: a kernel whose results depend on its
# buffers' alignment fails alignment_independent on every seed, isolated as
# in-process: the worker hands the kernel the offsets the property chose.
set -u
softcheck=$1 zoo=$2
for seed in 1 2 3 4 5; do
  for mode in isolated --in-process; do
    flags=()
    [ $mode = --in-process ] && flags=(--in-process)
    out=$("$softcheck" check --plugin "$zoo" --set alignment_dependent --property alignment_independent \
      --op softmax --seed $seed "${flags[@]}" 2>&1)
    code=$?
    [ $code = 1 ] && grep -q "FAIL  alignment_independent" <<<"$out" ||
      { echo "FAIL: seed $seed, $mode: exit $code"; echo "$out"; exit 1; }
  done
done
echo "ok"
