# Stage 3: evolve proxy formulas by GP (one job per protocol x training set x seed) and select the best run of each
# training set by training fitness. The protocols and their training sets: evoproxy.protocols (TRAINSETS).


# One job per training set runs all its seeds in one process (one start-up instead of one per run); Snakemake still
# runs the training sets in parallel. A rule per protocol block, because the seeds (outputs) differ between blocks.
for _protocol, _seeds in EVOLVE_SEEDS.items():

    rule:
        name:
            f"evolve_{_protocol}"
        input:
            trainset_manifests,
        output:
            expand(RUN, seed=_seeds, allow_missing=True),
        params:
            data=input_dir,
            problems=train_arg,
            sr=lookup(dpath="{protocol}", within=SR_JSON),
            split=SPLIT_ARGS,
            seeds=",".join(map(str, _seeds)),
            out=run_pattern,
        wildcard_constraints:
            protocol=re.escape(_protocol),
        log:
            f"{LOGS}/evolve/{{protocol}}/{{trainset}}.log",
        benchmark:
            f"{TIMINGS}/evolve/{{protocol}}/{{trainset}}.tsv"
        priority: CRITICAL_PATH
        threads: 1
        resources:
            mem_mb=3000,
            runtime=120,
        conda:
            ENV
        shell:
            "evoproxy evolve --data {params.data} --problems {params.problems} --sr-json {params.sr} {params.split} "
            "--seeds {params.seeds} --out {params.out} > {log} 2>&1"


rule select:
    input:
        runs=trainset_runs,
        tables=trainset_manifests,
    output:
        BEST,
    params:
        data=tables_dir,
    log:
        f"{LOGS}/select/{{protocol}}/{{trainset}}.log",
    benchmark:
        f"{TIMINGS}/select/{{protocol}}/{{trainset}}.tsv"
    priority: CRITICAL_PATH
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    conda:
        ENV
    shell:
        "evoproxy select --runs {input.runs} --data {params.data} --out {output} > {log} 2>&1"
