# Stage: proxy-guided evolutionary NAS. One job per (objective, dataset, seed) -> results/nas/<objective>/<dataset>/
# seed_<k>.json, then one table/figure over all of them. Rules are thin wrappers around 'evoproxy search|nas_table'.
validate(config["nas"], "../schemas/nas.schema.yaml")
NAS = config["nas"]
NAS_SPACE = NAS["space"]
EVOLVED_FORMULA = f"{RESULTS}/{NAS['evolved_formula']}"


def nas_objective_file(wc):
    return [EVOLVED_FORMULA] if wc.objective == "evolved" else []


def nas_objective_arg(wc):
    return EVOLVED_FORMULA if wc.objective == "evolved" else wc.objective


def nas_options(wc):
    opts = [f"--algorithm {'random' if wc.objective == 'random' else NAS['algorithm']}"]
    if NAS.get("budget_evals"):
        opts.append(f"--budget-evals {NAS['budget_evals']}")
    if NAS.get("budget_seconds"):
        opts.append(f"--budget-seconds {NAS['budget_seconds']}")
    if NAS["mode"] == "online":
        opts.append(f"--device {NAS['device']} --batch-size {NAS['batch_size']}")
        if wc.dataset in NAS.get("images", {}):
            opts.append(f"--images {NAS['images'][wc.dataset]}")
    return " ".join(opts)


rule search:
    input:
        objective=nas_objective_file,
        tables=lambda wc: problem_inputs([f"{NAS_SPACE}/{wc.dataset}"]),
        accuracy=f"{DATA}/nb201_accuracy.parquet" if NAS_SPACE == "nb201" else [],
    output:
        f"{RESULTS}/nas/{{objective}}/{{dataset}}/seed_{{seed}}.json",
    wildcard_constraints:
        objective=r"[A-Za-z0-9_\-]+",
        dataset=r"[A-Za-z0-9_\-]+",
        seed=r"\d+",
    params:
        objective=nas_objective_arg,
        options=nas_options,
    log:
        f"{LOGS}/nas/{{objective}}/{{dataset}}/seed_{{seed}}.log",
    benchmark:
        f"{BENCH}/nas/{{objective}}/{{dataset}}/seed_{{seed}}.tsv"
    threads: NAS["threads"]
    resources:
        mem_mb=2000 if NAS["mode"] == "lookup" else 8000,
        runtime=max(5, int((NAS.get("budget_seconds") or 3600) / 60) + 5),
    shell:
        "evoproxy search --space {NAS_SPACE} --dataset {wildcards.dataset} --objective {params.objective} "
        "--mode {NAS[mode]} --data {DATA} --population {NAS[population]} --sample-size {NAS[sample_size]} "
        "{params.options} --seed {wildcards.seed} --quiet --out {output} > {log} 2>&1"


NAS_RESULTS = expand(
    f"{RESULTS}/nas/{{objective}}/{{dataset}}/seed_{{seed}}.json",
    objective=NAS["objectives"],
    dataset=NAS["datasets"],
    seed=range(NAS["seeds"]),
)


rule nas_table:
    input:
        NAS_RESULTS,
    output:
        csv=f"{RESULTS}/tables/nas.csv",
        markdown=f"{RESULTS}/tables/nas.md",
        latex=f"{RESULTS}/tables/nas.tex",
        figure=f"{RESULTS}/figures/nas.png",
        runs=f"{RESULTS}/tables/nas_runs.csv",
    log:
        f"{LOGS}/nas/nas_table.log",
    benchmark:
        f"{BENCH}/nas/nas_table.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    shell:
        "evoproxy nas_table {input} --csv {output.csv} --markdown {output.markdown} --latex {output.latex} "
        "--figure {output.figure} --runs-csv {output.runs} > {log} 2>&1"


ALL_TARGETS.extend([rules.nas_table.output.csv, rules.nas_table.output.markdown, rules.nas_table.output.figure])
