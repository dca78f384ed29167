# Stage 1: the release files (download or copy from a mirror) -> ProblemTables (ingest) -> hand-crafted baselines.


# Any release file by its official name: zc_<space>.json or the NB201 accuracy CSV (evoproxy.release.download).
rule download:
    output:
        f"{RAW}/{{file}}",
    params:
        dest=output_dir,
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


rule ingest:
    input:
        release_file,
    output:
        f"{DATA}/{{space}}.manifest.json",
    params:
        src=input_dir,
        out=output_dir,
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
        f"{RAW}/{ACCURACY_CSV}",
    output:
        ACCURACY_TABLE,
    params:
        src=input_dir,
        out=output_dir,
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
        manifests(PROBLEMS),
    output:
        table=BASELINES,
        markdown=f"{TABLES}/baselines.md",
    params:
        data=input_dir,
        problems=",".join(PROBLEMS),
    log:
        f"{LOGS}/baselines.log",
    benchmark:
        f"{TIMINGS}/baselines.tsv"
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    conda:
        ENV
    shell:
        "evoproxy baselines --data {params.data} --problems {params.problems} --out {output.table} "
        "--markdown {output.markdown} > {log} 2>&1"
