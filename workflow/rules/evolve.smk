# Stage 3: evolve proxy formulas by GP and build each training set's final proxy from its runs (best.json, as
# `evoproxy select` does). The protocols and their training sets: evoproxy.protocols (TRAINSETS).


# One job per training set runs all its seeds and then builds their final proxy in one process (one start-up and one
# loading of the tables instead of one per run and one more for select); Snakemake still runs the training sets in
# parallel. A rule per protocol block, because the seeds (outputs) differ between blocks.
for _protocol, _seeds in EVOLVE_SEEDS.items():

    rule:
        name:
            f"evolve_{_protocol}"
        input:
            trainset_manifests,
        output:
            runs=expand(RUN, seed=_seeds, allow_missing=True),
            final=BEST,
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
            "--seeds {params.seeds} --out {params.out} --final {output.final} > {log} 2>&1"
