#!/usr/bin/env python3
"""Runs the real vLLM v1 scheduler (vllm==0.33.0, synchronous `Scheduler`, FCFS) on a kvscope
workload and yields, after each engine step, the state in kvscope's `check --iterations` format.

Needs a Python environment with vllm 0.33.0 and the few packages its scheduler imports
(see run-vllm.sh). No model weights and no network: the model config is a tiny config.json
written to a temporary directory; the KV cache is described directly (one full-attention group).

Use:
    run(workload, iterations) -> iterator of state dicts (imported by differential.py)
    drive(workload, scheduler, hasher) -> the engine steps alone (peer_bench.py, vllm_events.py)
    python3 vllm_v1_adapter.py WORKLOAD.json [ITERATIONS]   # prints JSON lines
where WORKLOAD.json holds the "workload" object of kvscope's first line (or that whole line).
"""
import itertools
import json
import os
import sys
import tempfile

os.environ.setdefault("VLLM_TARGET_DEVICE", "cpu")  # the CPU platform: no GPU needed
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("VLLM_LOGGING_LEVEL", "ERROR")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import logging  # noqa: E402
import warnings  # noqa: E402

warnings.filterwarnings("ignore")

import torch  # noqa: E402
import vllm  # noqa: E402
from vllm.config import CacheConfig, ModelConfig, SchedulerConfig, VllmConfig  # noqa: E402
from vllm.sampling_params import SamplingParams  # noqa: E402
from vllm.utils.hashing import get_hash_fn_by_name  # noqa: E402
from vllm.v1.core.kv_cache_utils import (  # noqa: E402
    get_request_block_hasher,
    init_none_hash,
    resolve_kv_cache_block_sizes,
)
from vllm.v1.core.sched.scheduler import Scheduler  # noqa: E402
from vllm.v1.kv_cache_interface import (  # noqa: E402
    FullAttentionSpec,
    KVCacheConfig,
    KVCacheGroupSpec,
)
from vllm.v1.outputs import ModelRunnerOutput  # noqa: E402
from vllm.v1.request import Request, RequestStatus  # noqa: E402
from vllm.v1.structured_output import StructuredOutputManager  # noqa: E402

logging.getLogger("vllm").setLevel(logging.ERROR)

ENGINE_VERSION = vllm.__version__
MAX_POSITIONS = 1 << 20

_model_config_cache = {}


def _model_config(max_model_len):
    """A ModelConfig for a tiny Llama-shaped config.json (no weights, no tokenizer)."""
    mc = _model_config_cache.get(max_model_len)
    if mc is None:
        d = tempfile.mkdtemp(prefix="kvscope-vllm-model-")
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump({
                "architectures": ["LlamaForCausalLM"], "model_type": "llama",
                "hidden_size": 64, "intermediate_size": 128, "num_attention_heads": 4,
                "num_key_value_heads": 4, "num_hidden_layers": 2, "vocab_size": 32000,
                "max_position_embeddings": MAX_POSITIONS, "rms_norm_eps": 1e-5,
                "torch_dtype": "float32", "bos_token_id": 1, "eos_token_id": 2,
            }, f)
        mc = ModelConfig(model=d, skip_tokenizer_init=True, max_model_len=max_model_len,
                         dtype="float32")
        _model_config_cache[max_model_len] = mc
    return mc


def max_model_len_for(workload):
    """Large enough that the max_model_len caps never bind (see notes)."""
    longest = max((len(r["prompt"]) + len(r["output"]) for r in workload["requests"]), default=1)
    return max(workload["pages"] * workload["page_size"], longest + 1)


def build_scheduler(workload, hash_algo=None, kv_events=False):
    """The engine objects for a workload. Only the workload's knobs are set; every other
    setting keeps vLLM 0.33.0's default (chunked prefill on, FCFS, scheduler_reserve_full_isl
    True, long_prefill_token_threshold 0, watermark 0, sha256 block hashes)."""
    B = workload["page_size"]
    max_model_len = max_model_len_for(workload)
    sched_cfg = SchedulerConfig(
        max_num_seqs=workload["max_num_seqs"],
        max_num_batched_tokens=workload["max_num_batched_tokens"],
        enable_chunked_prefill=True,
        async_scheduling=False,
        max_model_len=max_model_len,
        is_encoder_decoder=False,
    )
    cache_cfg = CacheConfig(block_size=B, enable_prefix_caching=bool(workload["prefix_cache"]))
    if hash_algo is not None:
        cache_cfg.prefix_caching_hash_algo = hash_algo
    vllm_config = VllmConfig(model_config=_model_config(max_model_len),
                             scheduler_config=sched_cfg, cache_config=cache_cfg)
    if kv_events:
        from vllm.config.kv_events import KVEventsConfig
        vllm_config.kv_events_config = KVEventsConfig(enable_kv_cache_events=True, publisher="null")
    vllm_config.cache_config.num_gpu_blocks = workload["pages"]
    kv_cache_config = KVCacheConfig(
        num_blocks=workload["pages"],
        kv_cache_tensors=[],
        kv_cache_groups=[KVCacheGroupSpec(
            ["model.layers.0.self_attn.attn"],
            FullAttentionSpec(block_size=B, num_kv_heads=1, head_size=1, dtype=torch.float32),
        )],
    )
    sbs, hbs = resolve_kv_cache_block_sizes(kv_cache_config, vllm_config)
    scheduler = Scheduler(
        vllm_config=vllm_config,
        kv_cache_config=kv_cache_config,
        structured_output_manager=StructuredOutputManager(vllm_config),
        block_size=sbs,
        hash_block_size=hbs,
        log_stats=False,
    )
    # As EngineCore.__init__: a block hasher only when prefix caching is on.
    hasher = None
    if vllm_config.cache_config.enable_prefix_caching:
        fn = get_hash_fn_by_name(vllm_config.cache_config.prefix_caching_hash_algo)
        init_none_hash(fn)
        hasher = get_request_block_hasher(hbs, fn, vllm_config.num_hash_lookahead_tokens)
    assert type(scheduler) is Scheduler
    return scheduler, hasher, vllm_config


def _status(req):
    s = req.status
    if s == RequestStatus.RUNNING:
        return "running"
    if s == RequestStatus.PREEMPTED:
        return "preempted"
    if RequestStatus.is_finished(s):
        return "finished"
    if s == RequestStatus.WAITING:
        return "waiting"
    return "other:" + s.name


def snapshot(scheduler, reqs, arrived):
    kvm = scheduler.kv_cache_manager
    pool = kvm.block_pool
    out = []
    for spec in arrived:
        r = reqs[spec["id"]]
        blocks = [] if r.is_finished() else [b.block_id for b in kvm.coordinator.get_blocks(r.request_id)[0]]
        out.append({"id": spec["id"], "status": _status(r), "blocks": blocks,
                    "computed": r.num_computed_tokens, "tokens": r.num_tokens})
    indexed = set()
    for v in pool.cached_block_hash_to_block._cache.values():
        if isinstance(v, dict):
            indexed.update(v.keys())
        else:
            indexed.add(v.block_id)
    return {
        "requests": out,
        "free_queue": [b.block_id for b in pool.free_block_queue.get_all_free_blocks()],
        "refs": [b.ref_cnt for b in pool.blocks],
        "hashed": sorted(b.block_id for b in pool.blocks if b.block_hash is not None),
        "indexed": sorted(indexed),
    }


def drive(workload, scheduler, hasher, iterations=None):
    """Runs the workload on a scheduler from build_scheduler: at each iteration, adds the requests
    that arrive then and, while any is unfinished, takes one engine step (schedule, the sampler below,
    update_from_output). Yields (iteration, requests by id, arrived specs in arrival order) after each
    iteration, for `iterations` iterations or, with None, until every request has arrived and finished.
    The yielded containers are the live ones: read them before resuming."""
    outputs = {r["id"]: r["output"] for r in workload["requests"]}
    by_arrival = {}
    for spec in workload["requests"]:
        by_arrival.setdefault(spec["arrive"], []).append(spec)
    last_arrival = max(by_arrival, default=-1)
    reqs = {}
    arrived = []
    for i in range(iterations) if iterations is not None else itertools.count():
        if iterations is None and i > last_arrival and not scheduler.has_unfinished_requests():
            return
        for spec in by_arrival.get(i, ()):
            req = Request(
                request_id=spec["id"],
                prompt_token_ids=list(spec["prompt"]),
                sampling_params=SamplingParams(max_tokens=len(spec["output"]), ignore_eos=True),
                pooling_params=None,
                arrival_time=float(i),
                block_hasher=hasher,
            )
            reqs[spec["id"]] = req
            arrived.append(spec)
            scheduler.add_request(req)
        if scheduler.has_unfinished_requests():
            so = scheduler.schedule()
            req_ids = list(so.num_scheduled_tokens.keys())
            sampled = []
            for rid in req_ids:
                r = reqs[rid]
                # The model samples only when the scheduled tokens reach the end of the sequence
                # (a partial prefill chunk samples nothing).
                if r.num_computed_tokens >= r.num_tokens:
                    sampled.append([outputs[rid][r.num_output_tokens]])
                else:
                    sampled.append([])
            mro = ModelRunnerOutput(req_ids=req_ids,
                                    req_id_to_index={rid: k for k, rid in enumerate(req_ids)},
                                    sampled_token_ids=sampled)
            scheduler.update_from_output(so, mro)
        yield i, reqs, arrived


def run(workload, iterations):
    """Yield the state after engine step i for i in 0..iterations-1."""
    scheduler, hasher, _ = build_scheduler(workload)
    for i, reqs, arrived in drive(workload, scheduler, hasher, iterations):
        yield {"iteration": i, **snapshot(scheduler, reqs, arrived)}


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[1]) as f:
        w = json.load(f)
    w = w.get("workload", w)
    n = int(argv[2]) if len(argv) > 2 else 40
    for state in run(w, n):
        print(json.dumps(state, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
