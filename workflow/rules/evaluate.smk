# Stage 4: the selected formula of each training set on the test splits of the problems. `score`: its own tau, rho
# and top-5% per problem; `evaluate`: against every hand-crafted baseline with bootstrap intervals (what the report
# reads). Both read the same inputs (formula_inputs).


rule score:
    input:
        unpack(formula_inputs),
    output:
        SCORES,
    params:
        data=tables_dir,
        problems=",".join(PROBLEMS),
    log:
        f"{LOGS}/score/{{protocol}}/{{trainset}}.log",
    benchmark:
        f"{TIMINGS}/score/{{protocol}}/{{trainset}}.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        ENV
    shell:
        "evoproxy score --formula {input.formula} --data {params.data} --problems {params.problems} --split test "
        "--out {output} > {log} 2>&1"


rule evaluate:
    input:
        unpack(formula_inputs),
    output:
        EVALUATION,
    params:
        data=tables_dir,
        train=train_arg,
        test=test_arg,
        kind=protocol_kind,
        split=SPLIT_ARGS,
        opts=EVALUATE_OPTIONS,
    log:
        f"{LOGS}/evaluate/{{protocol}}/{{trainset}}.log",
    benchmark:
        f"{TIMINGS}/evaluate/{{protocol}}/{{trainset}}.tsv"
    threads: 1
    resources:
        mem_mb=3000,
        runtime=20,
    conda:
        ENV
    shell:
        "evoproxy evaluate --formula {input.formula} --runs {input.runs} --data {params.data} "
        "--problems {params.test} --train-problems {params.train} --protocol {wildcards.protocol} "
        "--protocol-kind {params.kind} --trainset {wildcards.trainset} {params.split} {params.opts} "
        "--out {output} > {log} 2>&1"
