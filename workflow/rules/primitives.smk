# Stage 2: zero-cost proxies computed from images ('evoproxy extract') and the filling of proxies a benchmark
# table lacks ('evoproxy fill'). Both cost CPU/GPU time; config 'extract.enabled' / 'extract.fill_missing.enabled'
# add their outputs to 'all' (off by default). Any output can also be asked for by name, e.g.
#   snakemake --cores 2 results/primitives/nb201__cifar10.parquet
validate(config["extract"], "../schemas/extract.schema.yaml")
EXTRACT = config["extract"]
PRIM = f"{RESULTS}/primitives"
FILLED = f"{RESULTS}/data_filled"
EXTRACT_DATA_FILE = os.environ.get("EVOPROXY_DATA_FILE") or EXTRACT.get("data_file") or ""
FILL = EXTRACT.get("fill_missing") or {}

EXTRACT_ARCHS = {(t["space"], t["dataset"]): str(t.get("archs", "100")) for t in EXTRACT.get("targets", [])}
EXTRACT_OPTIONS = " ".join(
    [
        f"--batch-size {EXTRACT.get('batch_size', 64)}",
        f"--seed {EXTRACT.get('seed', 0)}",
        f"--device {EXTRACT.get('device', 'auto')}",
        f"--data-root {EXTRACT.get('data_root', 'resources/datasets')}",
    ]
    + ([f"--data-file {EXTRACT_DATA_FILE}"] if EXTRACT_DATA_FILE else [])
)


rule extract:
    input:
        archs=lambda wc: [
            a
            for a in [EXTRACT_ARCHS.get((wc.space, wc.dataset), "100")]
            if a != "all" and not a.isdigit()
        ],
    output:
        f"{PRIM}/{{space}}__{{dataset}}.parquet",
    wildcard_constraints:
        space="nb201|nb101|nb301",
        dataset=r"cifar10|cifar100|ImageNet16-120",
    params:
        archs=lambda wc: EXTRACT_ARCHS.get((wc.space, wc.dataset), "100"),
        options=f"--proxies {EXTRACT.get('proxies', 'all')} {EXTRACT_OPTIONS}",
    log:
        f"{LOGS}/extract/{{space}}__{{dataset}}.log",
    benchmark:
        f"{BENCH}/extract/{{space}}__{{dataset}}.tsv"
    threads: EXTRACT.get("threads", 2)
    resources:
        mem_mb=EXTRACT.get("mem_mb", 8000),
        runtime=EXTRACT.get("runtime", 240),
        gpu=EXTRACT.get("gpus", 0),
    conda:
        ENV
    shell:
        "OMP_NUM_THREADS={threads} evoproxy extract --space {wildcards.space} --dataset {wildcards.dataset} "
        "--archs {params.archs} {params.options} --out {output} > {log} 2>&1"


# Proxies for exactly the archs of an ingested table (e.g. nwot and zen for NB101, which the release lacks).
rule extract_for_fill:
    input:
        lambda wc: problem_inputs([f"{wc.space}/{wc.task}"]),
    output:
        f"{PRIM}/fill/{{space}}__{{task}}.parquet",
    wildcard_constraints:
        space="nb201|nb101|nb301",
        task=r"cifar10|cifar100|ImageNet16-120",
    params:
        table=lambda wc: problem_file(f"{wc.space}/{wc.task}"),
        options=f"--proxies {FILL.get('proxies', 'nwot,zen')} {EXTRACT_OPTIONS}",
    log:
        f"{LOGS}/extract/fill__{{space}}__{{task}}.log",
    benchmark:
        f"{BENCH}/extract/fill__{{space}}__{{task}}.tsv"
    threads: EXTRACT.get("threads", 2)
    resources:
        mem_mb=EXTRACT.get("mem_mb", 8000),
        runtime=EXTRACT.get("runtime", 240),
        gpu=EXTRACT.get("gpus", 0),
    conda:
        ENV
    shell:
        "OMP_NUM_THREADS={threads} evoproxy extract --space {wildcards.space} --dataset {wildcards.task} "
        "--archs {params.table} {params.options} --out {output} > {log} 2>&1"


rule fill_missing:
    input:
        tables=lambda wc: problem_inputs([f"{wc.space}/{wc.task}"]),
        primitives=f"{PRIM}/fill/{{space}}__{{task}}.parquet",
    output:
        f"{FILLED}/{{space}}__{{task}}.parquet",
    params:
        table=lambda wc: problem_file(f"{wc.space}/{wc.task}"),
    log:
        f"{LOGS}/fill/{{space}}__{{task}}.log",
    benchmark:
        f"{BENCH}/fill/{{space}}__{{task}}.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        ENV
    shell:
        "evoproxy fill --table {params.table} --primitives {input.primitives} --out {output} > {log} 2>&1"


if EXTRACT.get("enabled", False):
    ALL_TARGETS.extend(f"{PRIM}/{t['space']}__{t['dataset']}.parquet" for t in EXTRACT.get("targets", []))
if FILL.get("enabled", False):
    ALL_TARGETS.extend(problem_file(p).replace(DATA, FILLED, 1) for p in FILL["problems"])
