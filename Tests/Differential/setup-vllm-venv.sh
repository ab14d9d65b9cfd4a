#!/usr/bin/env bash
# Sets up (once) the Python environment in which the real vLLM 0.33.0 scheduler runs, for the
# differential test (run-vllm.sh) and the peer benchmark (`kvscope bench peer --download`).
#
#   Tests/Differential/setup-vllm-venv.sh      # prints the environment's directory on standard output
#
# The virtual environment is ${XDG_CACHE_HOME:-~/.cache}/kvscope-differential/vllm-venv, with PyTorch for
# CPU (/opt/wheels/torch-*+cpu*.whl when present, else the PyTorch CPU index), vllm==0.33.0 without its
# dependencies, and only the packages that importing its scheduler and building its configuration need
# (versions as vllm's own metadata requires them). A second run finds the stamp file and installs
# nothing. Progress and errors go to standard error. No model weights and no Hugging Face access.
set -euo pipefail

CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/kvscope-differential"
VENV="$CACHE/vllm-venv"
PYTHON_BIN="${PYTHON:-python3}"
VLLM_VERSION=0.33.0

# Import names the scheduler path needs, as distribution names from vllm's Requires-Dist.
DECLARED="packaging pydantic regex numpy cbor2 psutil pyzmq transformers aiohttp requests
oss-harmony openai pillow pybase64 cachetools msgspec cloudpickle py-cpuinfo prometheus_client
xgrammar apache-tvm-ffi fastapi partial-json-parser llguidance einops urllib3"
# Imported but not declared by vllm itself (comes with fastapi[standard] there).
UNDECLARED="uvloop"

STAMP="$VENV/.kvscope-differential-stamp"
WANT_STAMP="vllm=$VLLM_VERSION; $(echo $DECLARED $UNDECLARED)"

if [[ ! -f "$STAMP" || "$(cat "$STAMP")" != "$WANT_STAMP" ]]; then
  echo "== setting up $VENV" >&2
  mkdir -p "$CACHE"
  [[ -x "$VENV/bin/python" ]] || "$PYTHON_BIN" -m venv "$VENV"
  PIP=("$VENV/bin/python" -m pip --disable-pip-version-check)
  "${PIP[@]}" install -q --upgrade pip >&2 || true
  if ! "$VENV/bin/python" -c "import torch" 2>/dev/null; then
    PYTAG="cp$("$VENV/bin/python" -c 'import sys; print(f"{sys.version_info[0]}{sys.version_info[1]}")')"
    WHEEL="$(ls /opt/wheels/torch-*+cpu*-"$PYTAG"-*.whl 2>/dev/null | sort | tail -n 1 || true)"
    if [[ -n "$WHEEL" ]]; then
      "${PIP[@]}" install -q "$WHEEL" >&2
    else
      "${PIP[@]}" install -q torch --index-url https://download.pytorch.org/whl/cpu >&2
    fi
  fi
  "${PIP[@]}" install -q --no-deps "vllm==$VLLM_VERSION" >&2
  "${PIP[@]}" install -q packaging >&2
  # Requirement specifiers exactly as vllm declares them, for the names above.
  mapfile -t REQS < <("$VENV/bin/python" - $DECLARED <<'EOF'
import re, sys
from importlib.metadata import requires
from packaging.requirements import Requirement
want = {re.sub(r"[-_.]+", "-", n).lower() for n in sys.argv[1:]}
found = set()
for spec in requires("vllm") or []:
    r = Requirement(spec)
    name = re.sub(r"[-_.]+", "-", r.name).lower()
    if name in want and (r.marker is None or r.marker.evaluate({"extra": ""})):
        print(f"{r.name}{r.specifier}")
        found.add(name)
for name in sorted(want - found):
    print(name)
EOF
  )
  # pip lists every vllm requirement left out on purpose (CUDA kernels, server extras): hide those lines.
  "${PIP[@]}" install -q "${REQS[@]}" $UNDECLARED 2>&1 | { grep -v "^vllm .* requires " || true; } >&2
  "$VENV/bin/python" -c "import vllm.v1.core.sched.scheduler" >/dev/null 2>&1 || {
    echo "vllm's scheduler still does not import:" >&2
    "$VENV/bin/python" -c "import vllm.v1.core.sched.scheduler" 2>&1 | tail -n 3 >&2
    exit 1
  }
  echo "$WANT_STAMP" > "$STAMP"
fi

echo "$VENV"
