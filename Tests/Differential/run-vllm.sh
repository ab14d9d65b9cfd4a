#!/usr/bin/env bash
# Differential test of kvscope's `vllm-v1` policy against the real vLLM 0.33.0 scheduler.
#
#   Tests/Differential/run-vllm.sh [extra differential.py options, e.g. --count 50 --seed 7 --keep DIR]
#
# 1. Sets up (once) a virtual environment in ${XDG_CACHE_HOME:-~/.cache}/kvscope-differential/vllm-venv
#    with setup-vllm-venv.sh: PyTorch for CPU, vllm==0.33.0 without its dependencies, and only the
#    packages that importing its scheduler and building its configuration need.
# 2. Builds kvscope with `swift build` from the repository root, unless KVSCOPE=/path/to/kvscope is set.
# 3. Runs 500 random scenarios (seed $SEED, default 1) through kvscope and the engine.
#    EVENTS=1 (COUNT=N scenarios) also compares the KV cache events kvscope writes with vLLM's own.
# No model weights and no Hugging Face access are needed (see vllm_v1_adapter.py).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
VENV="$("$HERE/setup-vllm-venv.sh")"

if [[ -z "${KVSCOPE:-}" ]]; then
  echo "== swift build (set KVSCOPE=/path/to/kvscope to skip)" >&2
  (cd "$ROOT" && swift build --product kvscope >&2)
  KVSCOPE="$(cd "$ROOT" && swift build --show-bin-path)/kvscope"
fi

if [[ -z "${EVENTS:-}" ]]; then
  exec "$VENV/bin/python" "$HERE/differential.py" --engine vllm-v1 --kvscope "$KVSCOPE" \
    --count 500 --seed "${SEED:-1}" "$@"
fi

# EVENTS=1: also compare the KV cache events. The random scenarios are kept, vLLM publishes its events
# for each (sha256_cbor hashes), and `kvscope events diff` compares them with `kvscope events`.
KEEP="$(mktemp -d)"
trap 'rm -rf "$KEEP"' EXIT
"$VENV/bin/python" "$HERE/differential.py" --engine vllm-v1 --kvscope "$KVSCOPE" \
  --count "${COUNT:-500}" --seed "${SEED:-1}" --keep "$KEEP" "$@"
"$VENV/bin/python" "$HERE/vllm_events.py" --kvscope "$KVSCOPE" "$KEEP"/*.yaml 2>/dev/null
agree=0
differ=0
for scenario in "$KEEP"/*.yaml; do
  "$KVSCOPE" events "$scenario" -o "$scenario.kvscope-events.jsonl" 2>/dev/null
  if "$KVSCOPE" events diff "$scenario.kvscope-events.jsonl" "$scenario.vllm-events.jsonl" >/dev/null; then
    agree=$((agree + 1))
  else
    differ=$((differ + 1))
    "$KVSCOPE" events diff "$scenario.kvscope-events.jsonl" "$scenario.vllm-events.jsonl" | head -n 5
  fi
done
echo "events: $agree scenarios agree, $differ differ"
[[ $differ -eq 0 ]]
