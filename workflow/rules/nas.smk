# Stage: proxy-guided evolutionary NAS. One job per (objective, dataset, seed) -> results/nas/<objective>/<dataset>/
# seed_<k>.json, then one table/figure over all of them. Rules are thin wrappers around 'evoproxy search|nas_table'.
# 'evolved' is the selected evolved formula of the evolve stage; 'random' a uniformly random cell; else a proxy name.
validate(config["nas"], "../schemas/nas.schema.yaml")
NAS = config["nas"]
EVOLVED_FORMULA = f"{RESULTS}/{NAS['evolved_formula']}"
# Fixed search options of every job (space, mode, algorithm settings, budgets, device).
NAS_OPTIONS = " ".join(
    [f"--space {NAS['space']} --mode {NAS['mode']}",
     f"--population {NAS['population']} --sample-size {NAS['sample_size']}"]
    + ([f"--budget-evals {NAS['budget_evals']}"] if NAS.get("budget_evals") else [])
    + ([f"--budget-seconds {NAS['budget_seconds']}"] if NAS.get("budget_seconds") else [])
    + ([f"--device {NAS['device']} --batch-size {NAS['batch_size']}"] if NAS["mode"] == "online" else [])
)


rule search:
    input:
        objective=lambda wc: [EVOLVED_FORMULA] if wc.objective == "evolved" else [],
        tables=lambda wc: problem_inputs([f"{NAS['space']}/{wc.dataset}"]),
        accuracy=f"{DATA}/nb201_accuracy.parquet",
    output:
        f"{RESULTS}/nas/{{objective}}/{{dataset}}/seed_{{seed}}.json",
    wildcard_constraints:
        objective=r"[A-Za-z0-9_\-]+",
        dataset=r"[A-Za-z0-9_\-]+",
        seed=r"\d+",
    params:
        objective=lambda wc, input: input.objective[0] if wc.objective == "evolved" else wc.objective,
        algorithm=lambda wc: "random" if wc.objective == "random" else NAS["algorithm"],
        data=lambda wc, input: os.path.dirname(input.accuracy),
        options=NAS_OPTIONS,
        images=lambda wc: (f"--images {NAS['images'][wc.dataset]}"
                           if NAS["mode"] == "online" and wc.dataset in NAS.get("images", {}) else ""),
    log:
        f"{LOGS}/nas/{{objective}}/{{dataset}}/seed_{{seed}}.log",
    benchmark:
        f"{BENCH}/nas/{{objective}}/{{dataset}}/seed_{{seed}}.tsv"
    threads: NAS["threads"]
    resources:
        mem_mb=2000 if NAS["mode"] == "lookup" else 8000,
        runtime=max(5, int((NAS.get("budget_seconds") or 3600) / 60) + 5),
    conda:
        ENV
    shell:
        "evoproxy search {params.options} --dataset {wildcards.dataset} --objective {params.objective} "
        "--data {params.data} --algorithm {params.algorithm} {params.images} --seed {wildcards.seed} --quiet "
        "--out {output} > {log} 2>&1"


rule nas_table:
    input:
        expand(
            f"{RESULTS}/nas/{{objective}}/{{dataset}}/seed_{{seed}}.json",
            objective=NAS["objectives"],
            dataset=NAS["datasets"],
            seed=range(NAS["seeds"]),
        ),
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
    conda:
        ENV
    shell:
        "evoproxy nas_table {input} --csv {output.csv} --markdown {output.markdown} --latex {output.latex} "
        "--figure {output.figure} --runs-csv {output.runs} > {log} 2>&1"


ALL_TARGETS.extend([rules.nas_table.output.csv, rules.nas_table.output.markdown, rules.nas_table.output.figure])
