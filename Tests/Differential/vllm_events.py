#!/usr/bin/env python3
"""The KV cache events vLLM 0.33.0 publishes for a kvscope scenario, next to `kvscope events`.

Runs the scenario's workload (from `kvscope check FILE --iterations`) through vLLM's own scheduler
with `prefix_caching_hash_algo=sha256_cbor` and KV cache events on, captures each step's
`KVEventBatch`, and writes it as JSON Lines in the map form `kvscope events` writes (ts = the engine
step). Then `kvscope events diff` compares the two streams.

  VENV=~/.cache/kvscope-differential/vllm-venv
  $VENV/bin/python Tests/Differential/vllm_events.py --kvscope .build/debug/kvscope FILE.yaml -o vllm.jsonl
  .build/debug/kvscope events FILE.yaml -o kvscope.jsonl
  .build/debug/kvscope events diff kvscope.jsonl vllm.jsonl

With several scenario files, each stream is written next to its file as FILE.vllm-events.jsonl.
"""
import argparse
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vllm_v1_adapter as adapter  # noqa: E402


def workload_of(kvscope, scenario):
    out = subprocess.run([kvscope, "check", scenario, "--iterations"], capture_output=True, text=True, check=True)
    lines = out.stdout.splitlines()
    return json.loads(lines[0])["workload"], len(lines) - 1


def events(workload, iterations):
    """Yield (step, events) for each engine step that published some."""
    scheduler, hasher, _ = adapter.build_scheduler(workload, hash_algo="sha256_cbor", kv_events=True)
    captured = []
    scheduler.kv_event_publisher.publish = captured.append
    for i, _, _ in adapter.drive(workload, scheduler, hasher, iterations):
        for batch in captured:
            yield i, batch.events
        captured.clear()


def as_json(step, evs):
    out = []
    for e in evs:
        name = type(e).__name__
        if name == "BlockStored":
            out.append({"type": name, "block_hashes": list(e.block_hashes), "parent_block_hash": e.parent_block_hash,
                        "token_ids": list(e.token_ids), "block_size": e.block_size, "lora_id": e.lora_id,
                        "medium": e.medium, "lora_name": e.lora_name})
        elif name == "BlockRemoved":
            out.append({"type": name, "block_hashes": list(e.block_hashes), "medium": e.medium})
        else:
            out.append({"type": name})
    return {"ts": step, "events": out, "data_parallel_rank": None}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenarios", nargs="+", help="scenario files (vllm-v1)")
    parser.add_argument("--kvscope", required=True)
    parser.add_argument("-o", "--output", help="with one scenario: write here (default: standard output)")
    args = parser.parse_args()
    for scenario in args.scenarios:
        workload, iterations = workload_of(args.kvscope, scenario)
        lines = [json.dumps(as_json(step, evs)) for step, evs in events(workload, iterations)]
        text = "\n".join(lines) + ("\n" if lines else "")
        if len(args.scenarios) > 1:
            # Several scenarios: each stream next to its file.
            with open(scenario + ".vllm-events.jsonl", "w") as f:
                f.write(text)
        elif args.output:
            with open(args.output, "w") as f:
                f.write(text)
        else:
            sys.stdout.write(text)


if __name__ == "__main__":
    main()
