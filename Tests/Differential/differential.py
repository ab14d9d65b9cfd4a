#!/usr/bin/env python3
"""Differential test: kvscope's `vllm-v1` / `nano-vllm` policies against the real engines.

For each scenario, runs `kvscope check FILE --iterations` (JSON Lines: a workload line, then the
state after each engine step) and an engine adapter on the same workload (the real scheduler code),
and compares the two, iteration by iteration, field by field. The first disagreement of each
scenario is printed with both values; its scenario file is kept for reproduction.

  python3 Tests/Differential/differential.py --engine vllm-v1 --kvscope .build/debug/kvscope \\
      --count 500 --seed 1 [--adapter PATH] [--keep DIR]
  python3 Tests/Differential/differential.py --engine vllm-v1 --kvscope KVSCOPE --scenario FILE.yaml
  # without kvscope: compare the adapter with a saved kvscope output (a JSON Lines file)
  python3 Tests/Differential/differential.py --engine vllm-v1 --expected FILE.jsonl
  # without kvscope: only run the engine on random scenarios (checks the generator and adapter)
  python3 Tests/Differential/differential.py --engine nano-vllm --adapter A.py --engine-only --count 50

The vllm-v1 adapter is `vllm_v1_adapter.py` next to this file (needs vllm 0.33.0: see run-vllm.sh).
The nano-vllm adapter is not part of this repository; pass it with --adapter.
An adapter is a Python file with `run(workload, iterations)` yielding the state dicts.

Exit status: 0 when every scenario agrees, 1 on any disagreement or error, 2 on bad usage.
"""
import argparse
import importlib.util
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
ENGINES = ("vllm-v1", "nano-vllm")
STATE_FIELDS = ("requests", "free_queue", "refs", "hashed", "indexed")
REQUEST_FIELDS = ("status", "blocks", "computed", "tokens")


# ----------------------------------------------------------------------------- scenarios

def pages_for(tokens, page_size):
    return (tokens + page_size - 1) // page_size


def request_ids(n):
    ids = []
    for k in range(n):
        s, k2 = "", k
        while True:
            s = chr(ord("A") + k2 % 26) + s
            k2 = k2 // 26 - 1
            if k2 < 0:
                break
        ids.append(s)
    return ids


def random_scenario(rng, engine, index):
    """One random scenario (a dict in kvscope's YAML shape). Every request fits the pool alone."""
    pages = rng.randint(4, 64)
    page_size = rng.randint(1 if engine == "vllm-v1" else 2, 16)
    usable = pages - 1 if engine == "vllm-v1" else pages
    capacity = usable * page_size  # tokens one request may hold
    max_batch = rng.randint(1, 8)
    if rng.random() < 0.5:
        max_batched_tokens = rng.randint(4, 64)
    else:
        max_batched_tokens = rng.randint(4, 16)  # force chunking often
    if engine == "vllm-v1":
        # SchedulerConfig: max_num_batched_tokens must be >= max_num_seqs (ValueError otherwise).
        max_batched_tokens = max(max_batched_tokens, max_batch)
    # A few shared prefixes; prompts are a prefix (often cut at or near a page boundary) plus a tail.
    vocab = rng.choice([50, 1000, 30000])
    prefixes = []
    for _ in range(rng.randint(1, 3)):
        plen = rng.randint(1, max(1, min(capacity - 1, page_size * rng.randint(1, 6) + rng.randint(-1, 1))))
        prefixes.append([rng.randint(1, vocab) for _ in range(max(1, plen))])
    nreq = rng.randint(1, 12)
    arrivals = sorted(rng.randint(0, 8) for _ in range(nreq))
    requests = []
    prompts_so_far = []
    for rid, arrive in zip(request_ids(nreq), arrivals):
        output = rng.randint(1, 24)
        output = min(output, capacity - 1)
        max_prompt = capacity - output
        # keep most prompts moderate so that several requests compete for the pool
        soft = min(max_prompt, rng.choice([page_size * 2, page_size * 4, page_size * 8, max_prompt]))
        soft = max(1, soft)
        r = rng.random()
        if r < 0.12:
            prompt = rng.randint(1, soft)  # synthetic unique tokens, chosen by kvscope
        elif r < 0.25 and prompts_so_far:
            prompt = list(rng.choice(prompts_so_far))  # an exact repeat: a full-prompt hit
            if len(prompt) > max_prompt:
                prompt = prompt[:max_prompt]
        else:
            prefix = rng.choice(prefixes)
            cut = rng.choice([len(prefix), len(prefix), (len(prefix) // page_size) * page_size,
                              rng.randint(0, len(prefix))])
            head = prefix[:min(cut, soft)]
            target = rng.randint(len(head), max(len(head), soft))
            if rng.random() < 0.3:
                target = max(len(head), (target // page_size) * page_size)  # end on a page boundary
            tail = [rng.randint(1, vocab) for _ in range(target - len(head))]
            prompt = head + tail
            if not prompt:
                prompt = [rng.randint(1, vocab)]
        if isinstance(prompt, list):
            prompts_so_far.append(prompt)
            plen = len(prompt)
        else:
            plen = prompt
        assert 1 <= plen and pages_for(plen + output, page_size) <= usable, (plen, output, usable)
        requests.append({"id": rid, "arrive": arrive, "prompt": prompt, "output": output})
    sched = {"policy": engine, "max_batch": max_batch, "max_batched_tokens": max_batched_tokens}
    if engine == "vllm-v1":
        sched["prefix_cache"] = rng.random() < 0.7
    return {"name": f"random-{index}", "cache": {"pages": pages, "page_size": page_size},
            "scheduler": sched, "requests": requests}


def _yaml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, list):
        return "[" + ", ".join(_yaml_value(x) for x in v) + "]"
    return str(v)


def _yaml_map(d):
    return "{" + ", ".join(f"{k}: {_yaml_value(v)}" for k, v in d.items()) + "}"


def scenario_yaml(s, seed=None):
    lines = []
    if seed is not None:
        lines.append(f"# differential.py --seed {seed}: {s['name']}")
    lines.append(f"name: {s['name']}")
    lines.append(f"cache: {_yaml_map(s['cache'])}")
    lines.append(f"scheduler: {_yaml_map(s['scheduler'])}")
    lines.append("requests:")
    for r in s["requests"]:
        lines.append(f"  - {_yaml_map(r)}")
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------- kvscope

class Failure(Exception):
    """A scenario could not be compared (kvscope or engine failed)."""


def run_kvscope(kvscope, path):
    try:
        p = subprocess.run([kvscope, "check", path, "--iterations"], capture_output=True, text=True,
                           timeout=300)
    except subprocess.TimeoutExpired:
        raise Failure("kvscope timed out")
    except OSError as e:  # e.g. the binary is being rebuilt ("Text file busy")
        raise Failure(f"cannot run kvscope: {e}")
    lines = [ln for ln in p.stdout.splitlines() if ln.strip()]
    if not lines:
        raise Failure(f"kvscope printed nothing (exit {p.returncode}): {p.stderr.strip()[:500]}")
    try:
        objs = [json.loads(ln) for ln in lines]
    except json.JSONDecodeError as e:
        raise Failure(f"kvscope output is not JSON Lines ({e}); exit {p.returncode}; "
                      f"stderr: {p.stderr.strip()[:300]}")
    if p.returncode not in (0, 1):  # 1 = checker findings, still a valid run
        raise Failure(f"kvscope exit {p.returncode}: {p.stderr.strip()[:500]}")
    return objs


def split_kvscope_output(objs):
    if not objs or "workload" not in objs[0]:
        raise Failure("kvscope's first line has no `workload`")
    workload = objs[0]["workload"]
    states = objs[1:]
    for k, st in enumerate(states):
        if st.get("iteration") != k:
            raise Failure(f"kvscope line {k + 2}: expected iteration {k}, found {st.get('iteration')!r}")
    return workload, states


def check_workload(scenario, w):
    """The workload kvscope derived must be the scenario we wrote. Returns a problem or None."""
    if scenario is None:
        return None
    exp = {"policy": scenario["scheduler"]["policy"], "pages": scenario["cache"]["pages"],
           "page_size": scenario["cache"]["page_size"],
           "max_num_seqs": scenario["scheduler"]["max_batch"],
           "max_num_batched_tokens": scenario["scheduler"]["max_batched_tokens"]}
    if "prefix_cache" in scenario["scheduler"]:
        exp["prefix_cache"] = scenario["scheduler"]["prefix_cache"]
    for k, v in exp.items():
        if w.get(k) != v:
            return f"workload.{k}: scenario {v!r}, kvscope {w.get(k)!r}"
    wr = w.get("requests", [])
    if [r["id"] for r in wr] != [r["id"] for r in scenario["requests"]]:
        return f"workload.requests ids: scenario {[r['id'] for r in scenario['requests']]}, kvscope {[r['id'] for r in wr]}"
    for s, r in zip(scenario["requests"], wr):
        if r.get("arrive") != s["arrive"]:
            return f"workload.requests[{s['id']}].arrive: scenario {s['arrive']}, kvscope {r.get('arrive')}"
        if isinstance(s["prompt"], list) and r.get("prompt") != s["prompt"]:
            return f"workload.requests[{s['id']}].prompt differs from the scenario"
        if isinstance(s["prompt"], int) and len(r.get("prompt", [])) != s["prompt"]:
            return f"workload.requests[{s['id']}].prompt: {s['prompt']} tokens asked, kvscope gave {len(r.get('prompt', []))}"
        if len(r.get("output", [])) != s["output"]:
            return f"workload.requests[{s['id']}].output: {s['output']} tokens asked, kvscope gave {len(r.get('output', []))}"
    return None


# ----------------------------------------------------------------------------- comparison

def first_difference(i, ks, es):
    """(field, kvscope value, engine value) for the first difference of one iteration, or None."""
    kreq = ks.get("requests", [])
    ereq = es.get("requests", [])
    kids = [r.get("id") for r in kreq]
    eids = [r.get("id") for r in ereq]
    if kids != eids:
        return ("requests (ids listed)", kids, eids)
    for kr, er in zip(kreq, ereq):
        for f in REQUEST_FIELDS:
            # A finished request's computed count is dead bookkeeping: nano-vllm's deallocate zeroes
            # num_cached_tokens, vLLM keeps num_computed_tokens; kvscope keeps it.
            if f == "computed" and kr.get("status") == "finished":
                continue
            if kr.get(f) != er.get(f):
                return (f"requests[{kr['id']}].{f}", kr.get(f), er.get(f))
    for f in STATE_FIELDS[1:]:
        if ks.get(f) != es.get(f):
            return (f, ks.get(f), es.get(f))
    return None


def compare(kv_states, engine_states):
    """Returns (iterations compared, None) or (iterations compared, (iteration, field, kv, eng))."""
    n = 0
    for i, (ks, es) in enumerate(zip(kv_states, engine_states)):
        d = first_difference(i, ks, es)
        if d is not None:
            return n, (i,) + d
        n += 1
    return n, None


def load_adapter(path):
    spec = importlib.util.spec_from_file_location("kvscope_engine_adapter", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    if not hasattr(mod, "run"):
        raise SystemExit(f"{path}: an adapter must define run(workload, iterations)")
    return mod


def engine_states(adapter, workload, iterations):
    try:
        return list(adapter.run(workload, iterations))
    except Exception as e:  # an engine assertion is a finding too
        tb = traceback.format_exc(limit=6)
        raise Failure(f"engine raised {type(e).__name__}: {e}\n{tb}")


def synthetic_workload(scenario, rng):
    """For --engine-only: the workload line kvscope would print (synthetic tokens are made here)."""
    reqs = []
    next_token = 1_000_000
    for r in scenario["requests"]:
        prompt = r["prompt"]
        if isinstance(prompt, int):
            prompt = list(range(next_token, next_token + prompt))
            next_token += len(prompt)
        reqs.append({"id": r["id"], "arrive": r["arrive"], "prompt": prompt,
                     "output": [rng.randint(1, 30000) for _ in range(r["output"])]})
    s = scenario["scheduler"]
    return {"policy": s["policy"], "pages": scenario["cache"]["pages"],
            "page_size": scenario["cache"]["page_size"], "max_num_seqs": s["max_batch"],
            "max_num_batched_tokens": s["max_batched_tokens"],
            "prefix_cache": s.get("prefix_cache", True), "requests": reqs}


def short(v, limit=400):
    t = json.dumps(v, separators=(",", ":"))
    return t if len(t) <= limit else t[:limit] + "..."


# ----------------------------------------------------------------------------- main

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--engine", choices=ENGINES, help="policy / engine (default: from --scenario's policy)")
    ap.add_argument("--kvscope", help="path to the kvscope binary")
    ap.add_argument("--adapter", help="engine adapter .py (default for vllm-v1: vllm_v1_adapter.py here)")
    ap.add_argument("--count", type=int, default=500, help="random scenarios (default 500)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", metavar="DIR", help="write every scenario (and kvscope's output) into DIR")
    ap.add_argument("--scenario", metavar="FILE", help="compare one given scenario file")
    ap.add_argument("--expected", metavar="JSONL", help="use this saved kvscope output instead of running kvscope")
    ap.add_argument("--engine-only", action="store_true", help="run the engine on random scenarios, no kvscope")
    ap.add_argument("--max-iterations", type=int, default=2000, help="--engine-only: step limit")
    ap.add_argument("--verbose", "-v", action="store_true", help="print both full states at a mismatch")
    args = ap.parse_args(argv)

    engine = args.engine
    if engine is None and args.scenario:
        with open(args.scenario) as f:
            for ln in f:
                if "policy" in ln:
                    for e in ENGINES:
                        if e in ln:
                            engine = e
    if engine is None and args.expected:
        with open(args.expected) as f:
            engine = json.loads(f.readline())["workload"]["policy"]
    if engine is None:
        ap.error("--engine is required")
    adapter_path = args.adapter or (os.path.join(HERE, "vllm_v1_adapter.py") if engine == "vllm-v1" else None)
    if adapter_path is None:
        ap.error("--adapter is required for nano-vllm (its adapter lives outside this repository)")
    if not (args.expected or args.engine_only) and not args.kvscope:
        ap.error("--kvscope is required (or --expected / --engine-only)")
    if args.kvscope:
        args.kvscope = os.path.abspath(args.kvscope)

    t0 = time.time()
    adapter = load_adapter(adapter_path)
    version = getattr(adapter, "ENGINE_VERSION", "?")
    print(f"engine {engine} ({version}) via {adapter_path}; adapter loaded in {time.time() - t0:.1f}s",
          flush=True)

    # --- single comparisons
    if args.expected or args.scenario:
        if args.expected:
            with open(args.expected) as f:
                objs = [json.loads(ln) for ln in f if ln.strip()]
            label = args.expected
        else:
            objs = run_kvscope(args.kvscope, args.scenario)
            label = args.scenario
        try:
            workload, kv = split_kvscope_output(objs)
            if workload.get("policy") != engine:
                raise Failure(f"workload policy {workload.get('policy')!r}, engine {engine!r}")
            es = engine_states(adapter, workload, len(kv))
        except Failure as e:
            print(f"{label}: ERROR {e}")
            return 1
        n, diff = compare(kv, es)
        if diff:
            report(label, diff, kv, es, args.verbose, label)
            print(f"summary: 0/1 scenarios agree; {n} iterations agreed before the mismatch")
            return 1
        print(f"{label}: agrees over {n} iterations")
        print(f"summary: 1/1 scenarios agree; {n} iterations compared")
        return 0

    # --- random scenarios
    rng = random.Random(args.seed)
    keep_dir = args.keep
    if keep_dir:
        os.makedirs(keep_dir, exist_ok=True)
        work = keep_dir
    else:
        work = tempfile.mkdtemp(prefix="kvscope-differential-")
    agree = errors = disagree = 0
    iterations = 0
    preempting = 0
    for k in range(args.count):
        sc = random_scenario(rng, engine, k)
        path = os.path.join(work, f"{sc['name']}.yaml")
        with open(path, "w") as f:
            f.write(scenario_yaml(sc, args.seed))
        if args.engine_only:
            w = synthetic_workload(sc, rng)
            try:
                states = engine_states(adapter, w, args.max_iterations)
            except Failure as e:
                errors += 1
                print(f"{sc['name']}: ERROR {e}  (scenario: {keep(path, keep_dir, args)})")
                continue
            last = next((i for i, st in enumerate(states)
                         if all(r["status"] == "finished" for r in st["requests"])
                         and len(st["requests"]) == len(w["requests"])), None)
            if last is None:
                errors += 1
                print(f"{sc['name']}: ERROR not finished after {args.max_iterations} steps "
                      f"(scenario: {keep(path, keep_dir, args)})")
                continue
            if any(r["status"] == "preempted" for st in states[:last + 1] for r in st["requests"]):
                preempting += 1
            iterations += last + 1
            agree += 1
            continue
        try:
            objs = run_kvscope(args.kvscope, path)
            if keep_dir:
                with open(path[:-5] + ".kvscope.jsonl", "w") as f:
                    f.write("".join(json.dumps(o) + "\n" for o in objs))
            workload, kv = split_kvscope_output(objs)
            problem = check_workload(sc, workload)
            if problem:
                raise Failure(problem)
            es = engine_states(adapter, workload, len(kv))
        except Failure as e:
            errors += 1
            print(f"{sc['name']}: ERROR {e}  (scenario: {keep(path, keep_dir, args)})", flush=True)
            continue
        n, diff = compare(kv, es)
        iterations += n
        if any(r["status"] == "preempted" for st in es for r in st["requests"]):
            preempting += 1
        if diff:
            disagree += 1
            report(sc["name"], diff, kv, es, args.verbose, keep(path, keep_dir, args))
        else:
            agree += 1
    total = args.count
    what = "engine runs completed" if args.engine_only else "scenarios agree"
    print(f"summary ({engine}, seed {args.seed}): {agree}/{total} {what}; "
          f"{disagree} disagree, {errors} errors; {iterations} iterations "
          f"{'run' if args.engine_only else 'compared'}; {preempting} scenarios with preemption; "
          f"{time.time() - t0:.0f}s")
    if not keep_dir:
        shutil.rmtree(work, ignore_errors=True)
    return 0 if agree == total else 1


def keep(path, keep_dir, args):
    """Keep a failing scenario: it stays in --keep DIR, or is copied to a failures directory."""
    if keep_dir:
        return path
    d = os.path.join(tempfile.gettempdir(), f"kvscope-differential-failures-seed{args.seed}")
    os.makedirs(d, exist_ok=True)
    dst = os.path.join(d, os.path.basename(path))
    shutil.copyfile(path, dst)
    return dst


def report(name, diff, kv, es, verbose, where):
    i, field, kval, evalue = diff
    print(f"{name}: MISMATCH at iteration {i}, field {field}\n"
          f"    kvscope: {short(kval)}\n    engine:  {short(evalue)}\n    scenario: {where}", flush=True)
    if verbose:
        if i > 0:
            print(f"    state before (both agree): {short(es[i - 1], 4000)}")
        print(f"    kvscope state: {short(kv[i], 4000)}\n    engine state:  {short(es[i], 4000)}")


if __name__ == "__main__":
    sys.exit(main())
