# Stage 1: benchmark download -> ingest into ProblemTables -> hand-crafted baseline table.


rule download:
    output:
        f"{RAW}/{{file}}.json",
    params:
        dest=out_dir,
        mirror=MIRROR_ARG,
    log:
        f"{LOGS}/download/{{file}}.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=30,
    conda:
        ENV
    shell:
        "evoproxy download --dest {params.dest} {params.mirror} --only {wildcards.file} > {log} 2>&1"


rule download_accuracy:
    output:
        f"{RAW}/nb201_accuracy_15625.csv",
    params:
        dest=out_dir,
        mirror=MIRROR_ARG,
    log:
        f"{LOGS}/download/nb201_accuracy_15625.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=30,
    conda:
        ENV
    shell:
        "evoproxy download --dest {params.dest} {params.mirror} --only nb201_accuracy_15625 > {log} 2>&1"


rule ingest:
    input:
        lambda wc: f"{RAW}/{SPACE_FILES[wc.space]}",
    output:
        f"{DATA}/{{space}}.manifest.json",
    params:
        src=in_dir,
        out=out_dir,
    wildcard_constraints:
        space="|".join(SPACE_FILES),
    log:
        f"{LOGS}/ingest/{{space}}.log",
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    conda:
        ENV
    shell:
        "evoproxy ingest --src {params.src} --out {params.out} --spaces {wildcards.space} > {log} 2>&1"


rule ingest_accuracy:
    input:
        f"{RAW}/nb201_accuracy_15625.csv",
    output:
        f"{DATA}/nb201_accuracy.parquet",
    params:
        src=in_dir,
        out=out_dir,
    log:
        f"{LOGS}/ingest/nb201_accuracy.log",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        ENV
    shell:
        "evoproxy ingest --src {params.src} --out {params.out} --accuracy-only > {log} 2>&1"


rule baselines:
    input:
        problem_inputs(PROBLEMS),
    output:
        table=f"{RESULTS}/baselines.parquet",
        markdown=f"{RESULTS}/tables/baselines.md",
    params:
        data=lambda wc, input: os.path.dirname(input[0]),
        problems=",".join(PROBLEMS),
    log:
        f"{LOGS}/baselines.log",
    benchmark:
        f"{BENCH}/baselines.tsv"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    conda:
        ENV
    shell:
        "evoproxy baselines --data {params.data} --problems {params.problems} --out {output.table} "
        "--markdown {output.markdown} > {log} 2>&1"


ALL_TARGETS.append(rules.baselines.output.table)
