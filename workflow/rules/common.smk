# Shared definitions for all rule files. Each rule file appends its final outputs to ALL_TARGETS.
import os

RESULTS = config.get("results_dir", "results")
DATA = f"{RESULTS}/data"
LOGS = f"{RESULTS}/logs"
BENCH = f"{RESULTS}/benchmarks"
ENV = "../../envs/evoproxy.yaml"
ALL_TARGETS = []

RAW = config["data"]["raw_dir"]
MIRROR = os.environ.get("EVOPROXY_MIRROR") or config["data"].get("mirror") or ""
MIRROR_ARG = f"--mirror {MIRROR}" if MIRROR else ""
SPACE_FILES = {
    "nb101": "zc_nasbench101.json",
    "nb201": "zc_nasbench201.json",
    "nb301": "zc_nasbench301.json",
    "tnb101_micro": "zc_transbench101_micro.json",
    "tnb101_macro": "zc_transbench101_macro.json",
}
PROBLEMS = config["problems"]


# The ingested table of a problem id '<space>/<task>'.
problem_file = lambda pid: "{}/{}__{}.parquet".format(DATA, *pid.split("/", 1))
# Inputs a rule needs to read the tables of ``pids``: the ingest manifests of their spaces.
problem_inputs = lambda pids: sorted({f"{DATA}/{p.split('/', 1)[0]}.manifest.json" for p in pids})
# Folder of a rule's first output / input (for CLI flags that take a folder).
out_dir = lambda wc, output: os.path.dirname(output[0])
in_dir = lambda wc, input: os.path.dirname(input[0])
