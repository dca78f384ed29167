# Stage 4: the selected formula of each training set on the test splits of the problems. `score`: its own tau, rho
# and top-5% per problem; `evaluate`: against every hand-crafted baseline with bootstrap intervals (what the report
# reads). Both read the same inputs (formula_inputs). `supervised` fits the supervised reference of each (test
# problem, seed) once, for every evaluation that uses it.


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


rule supervised:
    input:
        tables=manifests(PROBLEMS),
    output:
        SUPERVISED,
    params:
        data=tables_dir,
        cases=supervised_cases_arg(),
        split=SPLIT_ARGS,
        n=REPORT["n_supervised"],
    log:
        f"{LOGS}/evaluate/supervised.log",
    benchmark:
        f"{TIMINGS}/evaluate/supervised.tsv"
    priority: CRITICAL_PATH
    threads: 1
    resources:
        mem_mb=3000,
        runtime=20,
    conda:
        ENV
    shell:
        "evoproxy supervised --data {params.data} --cases {params.cases} --n-supervised {params.n} {params.split} "
        "--out {output} > {log} 2>&1"


rule evaluate:
    input:
        unpack(evaluate_inputs),
    output:
        EVALUATION,
    params:
        data=tables_dir,
        train=train_arg,
        test=test_arg,
        kind=protocol_kind,
        split=SPLIT_ARGS,
        opts=EVALUATE_OPTIONS,
        supervised=supervised_arg,
    log:
        f"{LOGS}/evaluate/{{protocol}}/{{trainset}}.log",
    benchmark:
        f"{TIMINGS}/evaluate/{{protocol}}/{{trainset}}.tsv"
    priority: CRITICAL_PATH
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
        "{params.supervised} --out {output} > {log} 2>&1"
