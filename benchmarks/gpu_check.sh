#!/usr/bin/env bash
# One-shot GPU check (issue 14, target 4), at most ~8 minutes in all, every step under its own timeout:
#   1. NB201 extraction throughput, all 13 proxies, batch 64: one process (benchmarks/bench_extract.py, with the
#      FLOPs and GFLOP/s of each pass), and WORKERS processes at once (aggregate seconds per net);
#   2. one online NAS run on CIFAR-10: evoproxy search --mode online --objective $OBJECTIVE --budget-seconds 180
#      --device cuda, its best cell looked up in the NB201 accuracy table (top 1%: cifar10 valid >= 90.97).
# It ends with the figures BENCHMARKS.md needs (also in OUT/summary.md) and fails at once without CUDA.
#
#   benchmarks/gpu_check.sh [--smoke] [--out DIR]
#
# --smoke: the same steps on the CPU with tiny budgets (tests/test_proxies_gpu_script.py runs it).
# Data: $EVOPROXY_SHARED (default ../shared, else ./shared) with datasets/cifar10-subset/cifar10_subset_uint8.npz
# and benchmarks/nb-suite-zero/nb201_accuracy_15625.csv. The device tool sends the repository only, not ../shared:
# copy those two files into ./shared/ (same layout; a shared/ folder in the checkout travels) before the run.
# Python: $PYTHON, else python3 when its torch sees CUDA, else .venv/bin/python; the package runs from src/.
# OBJECTIVE (default nwot) and WORKERS (default 8) may be set in the environment.
set -euo pipefail

usage() { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; }
SMOKE=0
OUT_DIR=${OUT:-results/gpu_check}
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) SMOKE=1 ;;
    --out) [ $# -ge 2 ] || { echo "gpu_check: --out needs a folder" >&2; exit 2; }; OUT_DIR=$2; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "gpu_check: unknown argument '$1' (expected --smoke, --out DIR)" >&2; exit 2 ;;
  esac
  shift
done

cd "$(dirname "$0")/.."
mkdir -p "$OUT_DIR"
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
OBJECTIVE=${OBJECTIVE:-nwot}

has_cuda() { "$1" -c 'import sys, torch; sys.exit(not torch.cuda.is_available())' 2>/dev/null; }
if [ -z "${PYTHON:-}" ]; then
  if [ "$SMOKE" = 0 ] && has_cuda python3; then PYTHON=python3
  elif [ -x .venv/bin/python ]; then PYTHON=.venv/bin/python
  else PYTHON=python3
  fi
fi

SHARED=${EVOPROXY_SHARED:-../shared}
[ -d "$SHARED" ] || SHARED=./shared
NPZ=$SHARED/datasets/cifar10-subset/cifar10_subset_uint8.npz
CSV=$SHARED/benchmarks/nb-suite-zero/nb201_accuracy_15625.csv
for f in "$NPZ" "$CSV"; do
  [ -f "$f" ] || { echo "gpu_check: $f not found: set EVOPROXY_SHARED or copy it into ./shared/ (see the header)" >&2; exit 2; }
done

if [ "$SMOKE" = 1 ]; then
  DEVICE=cpu BENCH="--n 1 --warmup 1 --batch-size 8 --flop-archs 1 --threads 1" WORKERS=${WORKERS:-2} WNETS=1
  BUDGET=5 T_BENCH=600 T_PAR=600 T_NAS=300 NASBATCH="--batch-size 8"
else
  DEVICE=cuda BENCH="--n 30 --warmup 3 --flop-archs 2" WORKERS=${WORKERS:-8} WNETS=12
  BUDGET=180 T_BENCH=90 T_PAR=90 T_NAS=225 NASBATCH="--batch-size 64"  # with the 45 s + 30 s below: 8 min at most
fi

step() { echo; echo "=== gpu_check: $* ($(date +%H:%M:%S))"; }
fail() { echo "gpu_check: FAILED: $*" >&2; exit 1; }

step "environment"
timeout 45 "$PYTHON" - "$DEVICE" <<'EOF' || exit $?
import sys
try:
    import torch
except ImportError as exc:
    sys.exit(f"gpu_check: {sys.executable} cannot import torch ({exc}); set PYTHON to a Python with torch")
dev = sys.argv[1]
print(f"python {sys.version.split()[0]}, torch {torch.__version__}, CUDA available: {torch.cuda.is_available()}")
if dev == "cuda":
    if not torch.cuda.is_available():
        print(f"gpu_check: CUDA is not available (torch {torch.__version__}): run this on a GPU machine, or use "
              "--smoke for the CPU smoke test", file=sys.stderr)
        sys.exit(2)
    p = torch.cuda.get_device_properties(0)
    print(f"GPU: {p.name}, {p.total_memory / 2**30:.0f} GiB, {p.multi_processor_count} SMs")
import evoproxy.extract  # noqa: F401 - the package and its dependencies import
import evoproxy.cli  # noqa: F401
EOF

step "1a. extraction, one process (13 proxies, NB201)"
timeout "$T_BENCH" "$PYTHON" benchmarks/bench_extract.py --device "$DEVICE" $BENCH \
  --data-file "$NPZ" --out "$OUT_DIR/extract.md" || fail "bench_extract (one process), rc $?"

step "1b. extraction, $WORKERS processes at once"
timeout "$T_PAR" "$PYTHON" benchmarks/bench_extract.py --device "$DEVICE" $BENCH --flop-archs 0 --n 1 --warmup 0 \
  --workers "$WORKERS" --worker-nets "$WNETS" --data-file "$NPZ" --out "$OUT_DIR/extract_parallel.md" \
  || fail "bench_extract --workers $WORKERS, rc $?"

step "2. online NAS, objective $OBJECTIVE, $BUDGET s on $DEVICE"
mkdir -p "$OUT_DIR/data"
timeout 30 "$PYTHON" -c "import sys; from evoproxy.release.ingest import ingest_accuracy; ingest_accuracy(sys.argv[1], sys.argv[2])" \
  "$CSV" "$OUT_DIR/data/nb201_accuracy.parquet" || fail "ingest of $CSV, rc $?"
timeout "$T_NAS" "$PYTHON" -m evoproxy search --mode online --objective "$OBJECTIVE" --space nb201 --dataset cifar10 \
  --budget-seconds "$BUDGET" --device "$DEVICE" $NASBATCH --images "$NPZ" --data "$OUT_DIR/data" --seed 0 \
  --out "$OUT_DIR/search.json" --quiet || fail "evoproxy search, rc $?"

step "summary"
"$PYTHON" - "$OUT_DIR" "$WORKERS" "$BUDGET" <<'EOF'
import json
import re
import sys
import time
from pathlib import Path

import torch

out, workers, budget = Path(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
one = (out / "extract.md").read_text()
par = (out / "extract_parallel.md").read_text()


def cell(text: str, label: str) -> str:
    m = re.search(r"\| " + re.escape(label) + r"[^|]*\| ([^|]+) \|", text)
    return m.group(1).strip() if m else "?"


batch = re.search(r"batch (\d+)", one).group(1)
rec = json.loads((out / "search.json").read_text())
truth = rec.get("truth") or {}
acc = truth.get("accuracy")
dev = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu"
per_pass = [ln for ln in one.splitlines() if ln.startswith("| ") and ln.count("|") == 5 and "GFLOP" not in ln]
lines = [
    f"GPU check, {time.strftime('%Y-%m-%d')}, {dev}, torch {torch.__version__}",
    f"- extraction, 1 process: median {cell(one, 'median s / net')} s / net, worst {cell(one, 'worst s / net')} "
    f"(13 proxies, batch {batch}, NB201, incl. network build; target <= 0.1)",
    f"- extraction, {workers} processes: aggregate {cell(par, f'{workers} processes at once: aggregate')} s / net, "
    f"whole NB201 {cell(par, f'{workers} processes at once: projected')} (target < 30 min)",
    "- per pass (GFLOP | s | GFLOP/s): " + "; ".join(
        " ".join(p.strip() for p in ln.strip("|").split("|")) for ln in per_pass),
    f"- reference GEMM: {cell(one, 'reference')}",
    f"- online NAS, objective {rec['objective']['name']}, {budget:.0f} s budget, seed {rec['seed']} (n = 1): "
    f"{rec['evaluations']} evaluations in {rec['wall_seconds']:.1f} s; best {rec['best'].get('cell')}; "
    + (f"cifar10 valid {acc:.2f}% (rank {truth.get('rank')} of {truth.get('n_cells')}); top 1% (>= 90.97): "
       f"{'met' if acc >= 90.97 else 'not met'}" if acc is not None else "accuracy not found"),
    f"- commands: benchmarks/gpu_check.sh (bench_extract.py lines in {out}/extract*.md)",
]
text = "\n".join(lines)
print(text)
(out / "summary.md").write_text(text + "\n\n" + one + "\n\n" + par + "\n")
EOF
