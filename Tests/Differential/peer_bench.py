#!/usr/bin/env python3
"""Peer benchmark: times vLLM 0.33.0's real scheduler and KV cache manager on a kvscope workload.

Runs the workload (the first line of `kvscope check FILE --iterations`, or its "workload" object)
through vLLM's synchronous `Scheduler` to the end, with the differential adapter's sampler and no
state dumps, and prints one JSON line:

    {"engine": "vllm", "version": "0.33.0", "iterations": N, "seconds": S, "requests": R}

`seconds` covers the scheduling loop only: each iteration's arrivals (`Request` and `add_request`),
`schedule()`, the sampler and `update_from_output()`. Importing vLLM, building its configuration and
reading the workload are not timed. `iterations` counts engine iterations as kvscope does: up to the one
in which the last request finishes (the differential harness proves the two agree step for step).

    $VENV/bin/python Tests/Differential/peer_bench.py WORKLOAD.json [--max-iterations N]

`kvscope bench peer` writes the workload and runs this. Exit status: 0 ok, 1 when the run does not end
within --max-iterations, 2 on bad usage.
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import vllm_v1_adapter as adapter  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("workload", help="a JSON file: kvscope's workload line or its workload object")
    parser.add_argument("--max-iterations", type=int, default=10_000_000,
                        help="give up after this many iterations (default 10,000,000)")
    args = parser.parse_args(argv)
    with open(args.workload) as f:
        workload = json.load(f)
    workload = workload.get("workload", workload)
    if workload.get("policy") != "vllm-v1":
        parser.error(f"{args.workload}: the workload's policy is {workload.get('policy')!r}, not 'vllm-v1'")

    scheduler, hasher, _ = adapter.build_scheduler(workload)
    steps = adapter.drive(workload, scheduler, hasher)
    iterations = 0
    start = time.perf_counter()
    for _ in steps:
        iterations += 1
        if iterations > args.max_iterations:
            print(f"vLLM's scheduler has not finished the workload after {args.max_iterations} iterations",
                  file=sys.stderr)
            return 1
    seconds = time.perf_counter() - start
    print(json.dumps({"engine": "vllm", "version": adapter.ENGINE_VERSION, "iterations": iterations,
                      "seconds": round(seconds, 6), "requests": len(workload["requests"])}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
