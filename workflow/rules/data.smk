# Stage 1: benchmark download -> ingest into ProblemTables -> hand-crafted baseline table.
RAW = config["data"]["raw_dir"]
MIRROR = os.environ.get("EVOPROXY_MIRROR") or config["data"].get("mirror") or ""
SPACE_FILES = {
    "nb101": "zc_nasbench101.json",
    "nb201": "zc_nasbench201.json",
    "nb301": "zc_nasbench301.json",
    "tnb101_micro": "zc_transbench101_micro.json",
    "tnb101_macro": "zc_transbench101_macro.json",
}
PROBLEMS = config["problems"]
PROBLEM_SPACES = sorted({p.split("/", 1)[0] for p in PROBLEMS})


def manifest(space):
    return f"{DATA}/{space}.manifest.json"


def problem_inputs(pids):
    """Inputs a rule needs to read the tables of ``pids``: the ingest manifests of their spaces."""
    return sorted({manifest(p.split("/", 1)[0]) for p in pids})


rule download:
    output:
        json=f"{RAW}/{{file}}.json",
    params:
        mirror=f"--mirror {MIRROR}" if MIRROR else "",
    log:
        f"{LOGS}/download/{{file}}.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=30,
    shell:
        "evoproxy download --dest {RAW} {params.mirror} --only {wildcards.file} > {log} 2>&1"


rule download_accuracy:
    output:
        f"{RAW}/nb201_accuracy_15625.csv",
    params:
        mirror=f"--mirror {MIRROR}" if MIRROR else "",
    log:
        f"{LOGS}/download/nb201_accuracy_15625.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=30,
    shell:
        "evoproxy download --dest {RAW} {params.mirror} --only nb201_accuracy_15625 > {log} 2>&1"


rule ingest:
    input:
        lambda wc: f"{RAW}/{SPACE_FILES[wc.space]}",
    output:
        manifest=f"{DATA}/{{space}}.manifest.json",
    wildcard_constraints:
        space="|".join(SPACE_FILES),
    log:
        f"{LOGS}/ingest/{{space}}.log",
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    shell:
        "evoproxy ingest --src {RAW} --out {DATA} --spaces {wildcards.space} > {log} 2>&1"


rule ingest_accuracy:
    input:
        f"{RAW}/nb201_accuracy_15625.csv",
    output:
        f"{DATA}/nb201_accuracy.parquet",
    log:
        f"{LOGS}/ingest/nb201_accuracy.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    shell:
        "evoproxy ingest --src {RAW} --out {DATA} --accuracy-only > {log} 2>&1"


rule baselines:
    input:
        problem_inputs(PROBLEMS),
    output:
        table=f"{RESULTS}/baselines.parquet",
        markdown=f"{RESULTS}/tables/baselines.md",
    params:
        problems=",".join(PROBLEMS),
    log:
        f"{LOGS}/baselines.log",
    benchmark:
        f"{BENCH}/baselines.tsv"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    shell:
        "evoproxy baselines --data {DATA} --problems {params.problems} --out {output.table} "
        "--markdown {output.markdown} > {log} 2>&1"


ALL_TARGETS.append(rules.baselines.output.table)
