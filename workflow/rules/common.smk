# Shared helpers for all rule files. Each rule file appends its final outputs to ALL_TARGETS.
import os
from pathlib import Path

RESULTS = config.get("results_dir", "results")
DATA = f"{RESULTS}/data"
LOGS = f"{RESULTS}/logs"
BENCH = f"{RESULTS}/benchmarks"
ALL_TARGETS = []


def problem_file(pid):
    space, task = pid.split("/", 1)
    return f"{DATA}/{space}__{task}.parquet"


def problem_files(pids):
    return [problem_file(p) for p in pids]
