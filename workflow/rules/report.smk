# Stage 5: every paper table and figure and results/report.md, regenerated from the evaluation and run files
# (evoproxy report). File names: evoproxy.report.outputs (report_tables, report_figures in common.smk).


rule report:
    input:
        evaluations=per_trainset(EVALUATION),
        runs=all_runs(),
        best=per_trainset(BEST),
        nas=[NAS_MD] if REPORT["include_nas"] else [],
    output:
        markdown=REPORT_MD,
        tables=report_tables(csv=False),
        generalisation=generalisation_outputs(),
        csv=[report(f, caption="../report/tables.rst", category="Tables") for f in report_tables(csv=True)],
        figures=[report(f, caption=caption, category="Figures") for f, caption in report_figures().items()],
    params:
        evaluations=evaluations_dir,
        evolve=evolve_dir,
        protocols=",".join(TRAINSETS),
        tables=tables_out_dir,
        figures=figures_out_dir,
        nas=f"--nas-table {NAS_MD}" if REPORT["include_nas"] else "",
        config=shlex.quote(json.dumps(config)),
    log:
        f"{LOGS}/report.log",
    benchmark:
        f"{TIMINGS}/report.tsv"
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        ENV
    shell:
        "evoproxy report --evaluations {params.evaluations} --evolve {params.evolve} --protocols {params.protocols} "
        "--tables {params.tables} --figures {params.figures} --out {output.markdown} {params.nas} "
        "--config-json {params.config} > {log} 2>&1"


# The generalisation protocols' tables and figures (written by the report rule).
rule generalisation:
    input:
        generalisation_outputs(),


# The paper's tables, figures and report (and the NAS table it includes).
rule paper:
    input:
        rules.report.output,
        [NAS_MD] if REPORT["include_nas"] else [],
