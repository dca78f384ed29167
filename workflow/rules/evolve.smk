# Stage: evolve proxy formulas by GP (one job per protocol x trainset x seed), select the best run per trainset by
# training fitness, and score it on the test split of every configured problem.
# Python-level helpers for other rule files: TRAINSETS[protocol] = {trainset name: [problem ids]},
# EVOLVE_SEEDS[protocol] = [seeds], SCORE_FILES = [results/scores/<protocol>/<trainset>.parquet, ...].
import json
import shlex

from evoproxy.protocols import trainsets

validate(config["sr"], "../schemas/sr.schema.yaml")
validate(config["protocols"], "../schemas/protocols.schema.yaml")
SR = config["sr"]
PROTOCOLS = config["protocols"]
SPLIT = config["split"]
SPLIT_ARGS = (f"--n-train {SPLIT['n_train']} --max-train-fraction {SPLIT['max_train_fraction']} "
              f"--split-seed {SPLIT['seed']}")




TRAINSETS = {name: trainsets(name, PROBLEMS) for name, block in PROTOCOLS.items() if block.get("enabled", True)}
EVOLVE_SEEDS = {
    name: list(PROTOCOLS[name].get("seeds") or range(PROTOCOLS[name].get("runs", 1))) for name in TRAINSETS
}
# The SR config of a protocol: the sr section updated by the protocol's own 'sr' overrides, as a shell argument.
SR_JSON = {name: shlex.quote(json.dumps({**SR, **(PROTOCOLS[name].get("sr") or {})})) for name in TRAINSETS}
SCORE_FILES = [f"{RESULTS}/scores/{p}/{t}.parquet" for p in TRAINSETS for t in TRAINSETS[p]]


rule evolve:
    input:
        lambda wc: problem_inputs(TRAINSETS[wc.protocol][wc.trainset]),
    output:
        f"{RESULTS}/evolve/{{protocol}}/{{trainset}}/run_{{seed}}.json",
    wildcard_constraints:
        protocol="|".join(TRAINSETS) or "none",
        trainset=r"[A-Za-z0-9_\-]+",
        seed=r"\d+",
    params:
        data=lambda wc, input: os.path.dirname(input[0]),
        problems=lambda wc: ",".join(TRAINSETS[wc.protocol][wc.trainset]),
        sr=lambda wc: SR_JSON[wc.protocol],
        split=SPLIT_ARGS,
    log:
        f"{LOGS}/evolve/{{protocol}}/{{trainset}}/run_{{seed}}.log",
    benchmark:
        f"{BENCH}/evolve/{{protocol}}/{{trainset}}/run_{{seed}}.tsv"
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
        lambda wc: expand(
            f"{RESULTS}/evolve/{wc.protocol}/{wc.trainset}/run_{{seed}}.json", seed=EVOLVE_SEEDS[wc.protocol]
        ),
    output:
        f"{RESULTS}/evolve/{{protocol}}/{{trainset}}/best.json",
    wildcard_constraints:
        protocol="|".join(TRAINSETS) or "none",
        trainset=r"[A-Za-z0-9_\-]+",
    log:
        f"{LOGS}/select/{{protocol}}/{{trainset}}.log",
    benchmark:
        f"{BENCH}/select/{{protocol}}/{{trainset}}.tsv"
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    conda:
        ENV
    shell:
        "evoproxy select --runs {input} --out {output} > {log} 2>&1"


rule score:
    input:
        formula=f"{RESULTS}/evolve/{{protocol}}/{{trainset}}/best.json",
        tables=problem_inputs(PROBLEMS),
    output:
        f"{RESULTS}/scores/{{protocol}}/{{trainset}}.parquet",
    wildcard_constraints:
        protocol="|".join(TRAINSETS) or "none",
        trainset=r"[A-Za-z0-9_\-]+",
    params:
        data=lambda wc, input: os.path.dirname(input.tables[0]),
        problems=",".join(PROBLEMS),
    log:
        f"{LOGS}/score/{{protocol}}/{{trainset}}.log",
    benchmark:
        f"{BENCH}/score/{{protocol}}/{{trainset}}.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        ENV
    shell:
        "evoproxy score --formula {input.formula} --data {params.data} --problems {params.problems} --split test "
        "--out {output} > {log} 2>&1"


ALL_TARGETS.extend(SCORE_FILES)
