# Stage 4: the final proxy of each training set on the test splits of the problems. `score`: its own tau, rho
# and top-5% per problem; `evaluate_<protocol>`: against every hand-crafted baseline with bootstrap intervals (what
# the report reads). `supervised` fits the supervised reference of each (test problem, seed) once, for every
# evaluation that uses it.


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


# One job per protocol evaluates all its training sets in one process (the tables and the supervised references loaded
# once); each output is what `evoproxy evaluate` of that training set alone writes. A rule per protocol block, because
# the training sets (outputs) differ between blocks.
for _protocol, _trainsets in TRAINSETS.items():
    if not _trainsets:
        continue

    rule:
        name:
            f"evaluate_{_protocol}"
        input:
            unpack(protocol_evaluation_inputs(_protocol)),
        output:
            expand(EVALUATION, protocol=_protocol, trainset=list(_trainsets)),
        params:
            data=tables_dir,
            problems=",".join(PROBLEMS),
            formula=trainset_pattern(BEST, _protocol),
            out=trainset_pattern(EVALUATION, _protocol),
            trainsets=",".join(_trainsets),
            protocol=_protocol,
            kind=KIND[_protocol],
            split=SPLIT_ARGS,
            opts=EVALUATE_OPTIONS,
            supervised=supervised_arg,
        log:
            f"{LOGS}/evaluate/{_protocol}.log",
        benchmark:
            f"{TIMINGS}/evaluate/{_protocol}.tsv"
        priority: CRITICAL_PATH
        threads: 1
        resources:
            mem_mb=3000,
            runtime=60,
        conda:
            ENV
        shell:
            "evoproxy evaluate --formula {params.formula:q} --trainsets {params.trainsets} --data {params.data} "
            "--problems {params.problems} --protocol {params.protocol} --protocol-kind {params.kind} {params.split} "
            "{params.opts} {params.supervised} --out {params.out:q} > {log} 2>&1"
