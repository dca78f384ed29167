# Stage 2 (optional): zero-cost proxies computed from images ('evoproxy extract') and the filling of proxies a
# benchmark table lacks ('evoproxy fill'). Both cost CPU/GPU time; config 'extract.enabled' and
# 'extract.fill_missing.enabled' add their outputs to 'all' (off by default). Any output can be asked for by name:
#   snakemake --cores 2 results/primitives/nb201__cifar10.parquet        the archs of extract.targets
#   snakemake --cores 2 results/data_filled/nb101__cifar10.parquet       nwot, zen for the ingested table's archs


# results/primitives/<space>__<dataset>.parquet: the configured archs (extract.targets: all, N or a file) and
# proxies; results/primitives/fill/<space>__<dataset>.parquet: the archs of the ingested table <space>__<dataset>
# and the fill_missing proxies (the input of fill_missing).
rule extract:
    input:
        extract_inputs,
    output:
        f"{PRIM}/{{subset}}{{space}}__{{dataset}}.parquet",
    params:
        archs=extract_archs,
        proxies=extract_proxies,
        options=EXTRACT_OPTIONS,
    log:
        f"{LOGS}/extract/{{subset}}{{space}}__{{dataset}}.log",
    benchmark:
        f"{TIMINGS}/extract/{{subset}}{{space}}__{{dataset}}.tsv"
    threads: lookup(dpath="extract/threads", within=config)
    resources:
        mem_mb=lookup(dpath="extract/mem_mb", within=config),
        runtime=lookup(dpath="extract/runtime", within=config),
        gpu=lookup(dpath="extract/gpus", within=config),
    conda:
        ENV
    shell:
        "OMP_NUM_THREADS={threads} evoproxy extract --space {wildcards.space} --dataset {wildcards.dataset} "
        "--archs {params.archs} --proxies {params.proxies} {params.options} --out {output} > {log} 2>&1"


rule fill_missing:
    input:
        tables=table_manifest,
        primitives=f"{PRIM}/fill/{{space}}__{{task}}.parquet",
    output:
        f"{FILLED}/{{space}}__{{task}}.parquet",
    params:
        table=table_of,
    log:
        f"{LOGS}/fill/{{space}}__{{task}}.log",
    benchmark:
        f"{TIMINGS}/fill/{{space}}__{{task}}.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        ENV
    shell:
        "evoproxy fill --table {params.table} --primitives {input.primitives} --out {output} > {log} 2>&1"
