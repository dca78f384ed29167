# Stage: evaluate each selected formula against every baseline on the test splits (evoproxy evaluate), then
# regenerate all paper tables, figures and results/report.md from those result files (evoproxy report).
# Needs TRAINSETS, EVOLVE_SEEDS, SPLIT_ARGS from evolve.smk (included before this file).
import json

from evoproxy.protocols import evaluation_problems

validate(config["report"], "../schemas/report.schema.yaml")
REPORT = config["report"]
TABLES = f"{RESULTS}/tables"
FIGURES = f"{RESULTS}/figures"




EVAL_FILES = [f"{RESULTS}/evaluation/{p}/{t}.parquet" for p in TRAINSETS for t in TRAINSETS[p]]
RUN_FILES = [f"{RESULTS}/evolve/{p}/{t}/run_{s}.json" for p in TRAINSETS for t in TRAINSETS[p] for s in EVOLVE_SEEDS[p]]
_stems = ["wins", "wins_summary", "runs"]
for _p in TRAINSETS:
    _stems += ["transfer_kendall", "transfer_spearman"] if _p == "single" else [f"per_problem_{_p}", f"per_problem_{_p}_spearman"]
REPORT_TABLES = [f"{TABLES}/{s}.{e}" for s in _stems for e in ("md", "tex")]
REPORT_CSV = [f"{TABLES}/{s}.csv" for s in _stems]
REPORT_FIGURES = {
    "pareto": f"{FIGURES}/pareto.png",
    **{f"fitness_{p}": f"{FIGURES}/fitness_{p}.png" for p in TRAINSETS},
    **{f"bars_{p}": f"{FIGURES}/bars_{p}.png" for p in TRAINSETS if p != "single"},
    **({"transfer_matrix": f"{FIGURES}/transfer_matrix.png"} if "single" in TRAINSETS else {}),
}
NAS_MD = f"{RESULTS}/tables/nas.md"


rule evaluate:
    input:
        formula=f"{RESULTS}/evolve/{{protocol}}/{{trainset}}/best.json",
        tables=problem_inputs(PROBLEMS),
    output:
        f"{RESULTS}/evaluation/{{protocol}}/{{trainset}}.parquet",
    wildcard_constraints:
        protocol="|".join(TRAINSETS) or "none",
        trainset=r"[A-Za-z0-9_\-]+",
    params:
        data=lambda wc, input: os.path.dirname(input.tables[0]),
        train=lambda wc: ",".join(TRAINSETS[wc.protocol][wc.trainset]),
        test=lambda wc: ",".join(evaluation_problems(wc.protocol, TRAINSETS[wc.protocol][wc.trainset], PROBLEMS)),
        split=SPLIT_ARGS,
        opts=f"--n-boot {REPORT['n_boot']} --n-supervised {REPORT['n_supervised']} --seed {REPORT['seed']}",
    log:
        f"{LOGS}/evaluate/{{protocol}}/{{trainset}}.log",
    benchmark:
        f"{BENCH}/evaluate/{{protocol}}/{{trainset}}.tsv"
    threads: 1
    resources:
        mem_mb=3000,
        runtime=20,
    conda:
        ENV
    shell:
        "evoproxy evaluate --formula {input.formula} --data {params.data} --problems {params.test} "
        "--train-problems {params.train} --protocol {wildcards.protocol} --trainset {wildcards.trainset} "
        "{params.split} {params.opts} --out {output} > {log} 2>&1"


rule report:
    input:
        evaluations=EVAL_FILES,
        runs=RUN_FILES,
        best=[f"{RESULTS}/evolve/{p}/{t}/best.json" for p in TRAINSETS for t in TRAINSETS[p]],
        nas=[NAS_MD] if REPORT["include_nas"] else [],
    output:
        markdown=f"{RESULTS}/report.md",
        tables=REPORT_TABLES,
        csv=[report(f, caption="../report/tables.rst", category="Tables") for f in REPORT_CSV],
        figures=[
            report(f, caption=f"../report/{k.split('_')[0] if k.startswith(('bars', 'fitness')) else k}.rst",
                   category="Figures")
            for k, f in REPORT_FIGURES.items()
        ],
    params:
        evaluations=lambda wc, input: os.path.dirname(os.path.dirname(input.evaluations[0])),
        evolve=lambda wc, input: os.path.dirname(os.path.dirname(os.path.dirname(input.runs[0]))),
        protocols=",".join(TRAINSETS),
        tables=lambda wc, output: os.path.dirname(output.tables[0]),
        figures=lambda wc, output: os.path.dirname(output.figures[0]),
        nas=lambda wc, input: f"--nas-table {input.nas[0]}" if input.nas else "",
        config=shlex.quote(json.dumps(config)),
    log:
        f"{LOGS}/report.log",
    benchmark:
        f"{BENCH}/report.tsv"
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


rule paper:
    input:
        rules.report.output,
        [NAS_MD] if REPORT["include_nas"] else [],


ALL_TARGETS.extend([rules.report.output.markdown, *REPORT_FIGURES.values()])
