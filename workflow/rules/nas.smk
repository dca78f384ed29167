# Stage 6: proxy-guided evolutionary NAS. One job per (objective, dataset) runs all seeds in one process (the lookup
# table and ground truth loaded once), then one table and figure over all of them. Objectives: 'evolved' = the final
# proxy of nas.evolved_formula, 'evolved_<block>' that of a multi protocol block, 'random' = a uniformly random cell,
# anything else a proxy name.


rule search:
    input:
        objective=branch(is_evolved, then=nas_objective),
        tables=nas_tables,
        accuracy=ACCURACY_TABLE,
    output:
        expand(NAS_RUN, seed=range(NAS["seeds"]), allow_missing=True),
    params:
        objective=nas_objective,
        algorithm=nas_algorithm,
        data=tables_dir,
        options=NAS_OPTIONS,
        images=nas_images,
        seeds=f"0-{NAS['seeds'] - 1}",
        out=nas_run_pattern,
    log:
        f"{LOGS}/nas/{{objective}}/{{dataset}}.log",
    benchmark:
        f"{TIMINGS}/nas/{{objective}}/{{dataset}}.tsv"
    priority: CRITICAL_PATH
    threads: lookup(dpath="nas/threads", within=config)
    resources:
        mem_mb=2000 if NAS["mode"] == "lookup" else 8000,
        runtime=NAS["seeds"] * max(5, int((NAS["budget_seconds"] or 3600) / 60) + 5),
    conda:
        ENV
    shell:
        "evoproxy search {params.options} --dataset {wildcards.dataset} --objective {params.objective} "
        "--data {params.data} --algorithm {params.algorithm} {params.images} --seeds {params.seeds} --quiet "
        "--out {params.out} > {log} 2>&1"


rule nas_table:
    input:
        expand(NAS_RUN, objective=NAS["objectives"], dataset=NAS["datasets"], seed=range(NAS["seeds"])),
    output:
        csv=f"{TABLES}/nas.csv",
        markdown=NAS_MD,
        latex=f"{TABLES}/nas.tex",
        figure=f"{FIGURES}/nas.png",
        runs=f"{TABLES}/nas_runs.csv",
    log:
        f"{LOGS}/nas/nas_table.log",
    benchmark:
        f"{TIMINGS}/nas/nas_table.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        ENV
    shell:
        "evoproxy nas_table {input} --csv {output.csv} --markdown {output.markdown} --latex {output.latex} "
        "--figure {output.figure} --runs-csv {output.runs} > {log} 2>&1"
