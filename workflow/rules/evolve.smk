# Stage 3: evolve proxy formulas by GP (one job per protocol x training set x seed) and select the best run of each
# training set by training fitness. The protocols and their training sets: evoproxy.protocols (TRAINSETS).


rule evolve:
    input:
        trainset_manifests,
    output:
        RUN,
    params:
        data=input_dir,
        problems=train_arg,
        sr=lookup(dpath="{protocol}", within=SR_JSON),
        split=SPLIT_ARGS,
    log:
        f"{LOGS}/evolve/{{protocol}}/{{trainset}}/run_{{seed}}.log",
    benchmark:
        f"{TIMINGS}/evolve/{{protocol}}/{{trainset}}/run_{{seed}}.tsv"
    threads: 1
    resources:
        mem_mb=3000,
        runtime=120,
    conda:
        ENV
    shell:
        "evoproxy evolve --data {params.data} --problems {params.problems} --sr-json {params.sr} {params.split} "
        "--seed {wildcards.seed} --out {output} > {log} 2>&1"


rule select:
    input:
        trainset_runs,
    output:
        BEST,
    log:
        f"{LOGS}/select/{{protocol}}/{{trainset}}.log",
    benchmark:
        f"{TIMINGS}/select/{{protocol}}/{{trainset}}.tsv"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    conda:
        ENV
    shell:
        "evoproxy select --runs {input} --out {output} > {log} 2>&1"
