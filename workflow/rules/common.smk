# Everything the rule files share, included first by the Snakefile. The validated config, paths, the protocol
# plan, input and params functions, wildcard constraints and the targets of `all`. The rule files define rules only
# and use nothing from each other, so they can be included in any order.
import json
import os
import re
import shlex
import sys
from pathlib import Path

from snakemake.utils import validate

REPO = Path(workflow.basedir).parent
# The workflow uses small pure-Python helpers of the package (protocols, release file names, report file names);
# make them importable even when Snakemake runs outside the package's environment (`--use-conda` from
# workflow/envs/snakemake.yaml).
sys.path.insert(0, str(REPO / "src"))
# `--use-conda`: the rule env's post-deploy script installs the working tree from EVOPROXY_SRC (the working
# directory may be elsewhere, e.g. --directory .test).
os.environ.setdefault("EVOPROXY_SRC", str(REPO))

from evoproxy.methods import expand_preset
from evoproxy.protocols import GENERALISATION, evaluation_problems, supervised_cases, trainsets
from evoproxy.release.download import SOURCES
from evoproxy.release.names import ACCURACY_TABLE as ACCURACY_TABLE_NAME
from evoproxy.report import outputs as report_outputs


# The one validation of the config: every section against its schema; defaults are filled there, never here. A
# named GP method (sr.preset) is expanded first, so that the schema fills only what neither it nor the config sets.
config["sr"] = expand_preset(config.get("sr"))
validate(config, "../schemas/config.schema.yaml")


# ---------------------------------------------------------------- paths
RESULTS = config["results_dir"]
DATA = f"{RESULTS}/data"  # ingested ProblemTables
PRIM = f"{RESULTS}/primitives"  # proxies extracted from images
FILLED = f"{RESULTS}/data_filled"  # ingested tables with extracted proxies filled in
TABLES = f"{RESULTS}/tables"
FIGURES = f"{RESULTS}/figures"
LOGS = f"{RESULTS}/logs"
TIMINGS = f"{RESULTS}/timings"  # Snakemake `benchmark:` files (wall time, memory per job)
ENV = "../envs/evoproxy.yaml"  # relative to the rule files

RUN = f"{RESULTS}/evolve/{{protocol}}/{{trainset}}/run_{{seed}}.json"  # one GP run (FormulaRun)
BEST = f"{RESULTS}/evolve/{{protocol}}/{{trainset}}/best.json"  # the final proxy of a training set (its evolve job)
SCORES = f"{RESULTS}/scores/{{protocol}}/{{trainset}}.parquet"
EVALUATION = f"{RESULTS}/evaluation/{{protocol}}/{{trainset}}.parquet"
SUPERVISED = f"{RESULTS}/evaluation/supervised.parquet"  # the supervised references, fitted once for every evaluation
NAS_RUN = f"{RESULTS}/nas/{{objective}}/{{dataset}}/seed_{{seed}}.json"  # one search
BASELINES = f"{RESULTS}/baselines.parquet"
REPORT_MD = f"{RESULTS}/report.md"
NAS_MD = f"{TABLES}/nas.md"

# ---------------------------------------------------------------- data (the NAS-Bench-Suite-Zero release)
RAW = config["data"]["raw_dir"]
MIRROR = os.environ.get("EVOPROXY_MIRROR") or config["data"]["mirror"]
MIRROR_ARG = f"--mirror {MIRROR}" if MIRROR else ""
SPACE_FILES = {s.space: name for name, s in SOURCES.items() if s.space}  # space -> zc_<space>.json
(ACCURACY_CSV,) = [name for name, s in SOURCES.items() if not s.space]  # nb201_accuracy_15625.csv
ACCURACY_TABLE = f"{DATA}/{ACCURACY_TABLE_NAME}"
PROBLEMS = config["problems"]

# ---------------------------------------------------------------- evolution protocols
SPLIT = config["split"]
SPLIT_ARGS = (
    f"--n-train {SPLIT['n_train']} --max-train-fraction {SPLIT['max_train_fraction']} "
    f"--split-seed {SPLIT['seed']}"
)
PROTOCOLS = {name: block for name, block in config["protocols"].items() if block["enabled"]}
# A protocol block's kind (evoproxy.protocols): its 'protocol' key, else its name (loso_paper: protocol loso).
KIND = {name: block.get("protocol") or name for name, block in PROTOCOLS.items()}
# TRAINSETS[protocol] = {trainset name: [problem ids]}; EVOLVE_SEEDS[protocol] = [seeds]
TRAINSETS = {name: trainsets(KIND[name], PROBLEMS) for name in PROTOCOLS}
EVOLVE_SEEDS = {name: list(block.get("seeds") or range(block["runs"])) for name, block in PROTOCOLS.items()}
# The GP config of a protocol: the sr section updated by the protocol's own sr overrides (a preset expanded), as a
# shell argument.
SR_JSON = {name: shlex.quote(json.dumps({**config["sr"], **expand_preset(block["sr"])}))
           for name, block in PROTOCOLS.items()}
GENERALISATION_PROTOCOLS = [name for name in PROTOCOLS if KIND[name] in GENERALISATION]

# ---------------------------------------------------------------- extraction, NAS, report
EXTRACT = config["extract"]
FILL = EXTRACT["fill_missing"]
EXTRACT_ARCHS = {(t["space"], t["dataset"]): t["archs"] for t in EXTRACT["targets"]}
EXTRACT_DATA_FILE = os.environ.get("EVOPROXY_DATA_FILE") or EXTRACT["data_file"]
EXTRACT_OPTIONS = " ".join(
    [
        f"--batch-size {EXTRACT['batch_size']}",
        f"--seed {EXTRACT['seed']}",
        f"--device {EXTRACT['device']}",
        f"--data-root {EXTRACT['data_root']}",
    ]
    + ([f"--data-file {EXTRACT_DATA_FILE}"] if EXTRACT_DATA_FILE else [])
)

NAS = config["nas"]
EVOLVED_FORMULA = f"{RESULTS}/{NAS['evolved_formula']}"
# Fixed search options of every job (space, mode, algorithm settings, budgets, device).
NAS_OPTIONS = " ".join(
    [
        f"--space {NAS['space']} --mode {NAS['mode']}",
        f"--population {NAS['population']} --sample-size {NAS['sample_size']}",
    ]
    + ([f"--budget-evals {NAS['budget_evals']}"] if NAS["budget_evals"] else [])
    + ([f"--budget-seconds {NAS['budget_seconds']}"] if NAS["budget_seconds"] else [])
    + ([f"--device {NAS['device']} --batch-size {NAS['batch_size']}"] if NAS["mode"] == "online" else [])
)

# Scheduling: the jobs other jobs wait for (evolve, supervised, evaluate, search) go before those nothing waits
# for (score; default priority 0), so no long job is left alone on one core at the end.
CRITICAL_PATH = 1

REPORT = config["report"]
EVALUATE_OPTIONS = f"--n-boot {REPORT['n_boot']} --n-supervised {REPORT['n_supervised']} --seed {REPORT['seed']}"


wildcard_constraints:
    file="|".join(map(re.escape, SOURCES)),
    space="|".join(SPACE_FILES),
    task=r"[A-Za-z0-9_\-]+",
    dataset=r"[A-Za-z0-9_\-]+",
    subset="(fill/)?",
    protocol="|".join(TRAINSETS) or "none",
    trainset=r"[A-Za-z0-9_\-]+",
    objective=r"[A-Za-z0-9_\-]+",
    seed=r"\d+",


# ---------------------------------------------------------------- helpers and input functions
def problem_file(pid):
    """The ingested table of a problem id '<space>/<task>'."""
    return "{}/{}__{}.parquet".format(DATA, *pid.split("/", 1))


def manifests(pids):
    """The inputs that stand for the tables of ``pids``, the ingest manifests of their spaces."""
    return sorted({f"{DATA}/{p.split('/', 1)[0]}.manifest.json" for p in pids})


# Params that are paths derive from the rule's files (snakemake --lint: they then follow the files to remote storage).
def input_dir(wildcards, input):
    """Folder of the first input file."""
    return os.path.dirname(input[0])


def output_dir(wildcards, output):
    """Folder of the first output file."""
    return os.path.dirname(output[0])


def tables_dir(wildcards, input):
    """Folder of the ingested tables (input 'tables': their manifests)."""
    return os.path.dirname(input.tables[0])


def evaluations_dir(wildcards, input):
    """<results>/evaluation, from input 'evaluations' (<protocol>/<trainset>.parquet)."""
    return os.path.dirname(os.path.dirname(input.evaluations[0]))


def evolve_dir(wildcards, input):
    """<results>/evolve, from input 'runs' (<protocol>/<trainset>/run_<seed>.json)."""
    return os.path.dirname(os.path.dirname(os.path.dirname(input.runs[0])))


def tables_out_dir(wildcards, output):
    """Folder of output 'tables'."""
    return os.path.dirname(output.tables[0])


def figures_out_dir(wildcards, output):
    """Folder of output 'figures'."""
    return os.path.dirname(output.figures[0])


def per_trainset(pattern, protocols=None):
    """``pattern`` for every (protocol, trainset) of the enabled protocols (or of those of them in ``protocols``)."""
    return [pattern.format(protocol=p, trainset=t) for p in TRAINSETS if protocols is None or p in protocols
            for t in TRAINSETS[p]]


def all_runs(protocols=None):
    """Every GP run file of the enabled protocols (or of those of them in ``protocols``)."""
    return [RUN.format(protocol=p, trainset=t, seed=s) for p in TRAINSETS if protocols is None or p in protocols
            for t in TRAINSETS[p] for s in EVOLVE_SEEDS[p]]


def release_file(wildcards):
    """The release file of a space."""
    return f"{RAW}/{SPACE_FILES[wildcards.space]}"


def table_manifest(wildcards):
    """The ingest manifest of the table <space>__<task>."""
    return manifests([f"{wildcards.space}/{wildcards.task}"])


def table_of(wildcards):
    """The ingested table <space>__<task>."""
    return problem_file(f"{wildcards.space}/{wildcards.task}")


def trainset_problems(wildcards):
    """Problem ids of a training set."""
    return TRAINSETS[wildcards.protocol][wildcards.trainset]


def trainset_manifests(wildcards):
    return manifests(trainset_problems(wildcards))


def formula_inputs(wildcards):
    """Inputs of score and evaluate: a training set's final proxy, its runs and the tables of every problem."""
    return {"formula": BEST.format(protocol=wildcards.protocol, trainset=wildcards.trainset),
            "runs": trainset_runs(wildcards), "tables": manifests(PROBLEMS)}


def protocol_evaluation_inputs(protocol):
    """Inputs of a protocol's evaluate job: every training set's final proxy and runs, the tables of every problem,
    and the supervised references when the report has them."""

    def inputs(wildcards):
        return {"formulas": per_trainset(BEST, [protocol]), "runs": all_runs([protocol]),
                "tables": manifests(PROBLEMS), **({"supervised": SUPERVISED} if REPORT["n_supervised"] > 0 else {})}

    return inputs


def supervised_arg(wildcards, input):
    return f"--supervised {input.supervised}" if "supervised" in input.keys() else ""


def supervised_cases_arg():
    """--cases of the supervised job: every (test problem, seed) some evaluation of the enabled protocols uses."""
    cases = dict.fromkeys(case for p in TRAINSETS for problems in TRAINSETS[p].values()
                          for case in supervised_cases(evaluation_problems(KIND[p], problems, PROBLEMS),
                                                       REPORT["seed"]))
    return ",".join(f"{pid}@{seed}" for pid, seed in cases)


def train_arg(wildcards):
    """--problems / --train-problems of a training set (comma-separated ids)."""
    return ",".join(trainset_problems(wildcards))


def trainset_pattern(pattern, protocol):
    """``pattern`` of one protocol with '{trainset}' left for the CLI to fill in (as a function: Snakemake would
    expand the braces of a string param)."""
    path = pattern.format(protocol=protocol, trainset="{trainset}")
    return lambda wildcards: path


def run_pattern(wildcards):
    """--out of a training set's evolve job: its run file with '{seed}' left for the CLI to fill in."""
    return RUN.format(protocol=wildcards.protocol, trainset=wildcards.trainset, seed="{seed}")


def trainset_runs(wildcards):
    """The GP runs of a training set, one per seed of its protocol."""
    return expand(RUN, protocol=wildcards.protocol, trainset=wildcards.trainset,
                  seed=EVOLVE_SEEDS[wildcards.protocol])


def extract_archs(wildcards):
    """--archs of an extraction: the ingested table's archs under fill/, else the target's (all, N or a file).
    An output asked for by name that no target configures gets the schema's default target size, 100."""
    if wildcards.subset:
        return problem_file(f"{wildcards.space}/{wildcards.dataset}")
    return EXTRACT_ARCHS.get((wildcards.space, wildcards.dataset), "100")


def extract_inputs(wildcards):
    """Files an extraction reads: the ingest manifest (fill/) or the target's arch file, if it names one."""
    if wildcards.subset:
        return manifests([f"{wildcards.space}/{wildcards.dataset}"])
    archs = extract_archs(wildcards)
    return [] if archs == "all" or archs.isdigit() else [archs]


def extract_proxies(wildcards):
    return FILL["proxies"] if wildcards.subset else EXTRACT["proxies"]


def evolved_file(objective):
    """The final proxy file of a NAS objective: 'evolved' is nas.evolved_formula, 'evolved_<block>' the multi-kind
    protocol block's (e.g. evolved_multi_paper: the paper method's proxy); None for a proxy name or 'random'."""
    if objective == "evolved":
        return EVOLVED_FORMULA
    block = objective[len("evolved_"):] if objective.startswith("evolved_") else None
    if block in PROTOCOLS and KIND[block] == "multi":
        return BEST.format(protocol=block, trainset="all")
    return None


def is_evolved(wildcards):
    """Whether a NAS objective is an evolved proxy ('random' and proxy names need no input file)."""
    return evolved_file(wildcards.objective) is not None


def nas_objective(wildcards):
    """--objective of a search: the evolved proxy's file or the proxy name."""
    return evolved_file(wildcards.objective) or wildcards.objective


def nas_run_pattern(wildcards):
    """--out of a search job: its result file with '{seed}' left for the CLI to fill in."""
    return NAS_RUN.format(objective=wildcards.objective, dataset=wildcards.dataset, seed="{seed}")


def nas_algorithm(wildcards):
    return "random" if wildcards.objective == "random" else NAS["algorithm"]


def nas_tables(wildcards):
    return manifests([f"{NAS['space']}/{wildcards.dataset}"])


def nas_images(wildcards):
    """--images of an online search (the loader's default when the config names no file for the dataset)."""
    image = NAS["images"].get(wildcards.dataset) if NAS["mode"] == "online" else None
    return f"--images {image}" if image else ""


def report_tables(csv):
    """The report's table files for the enabled protocols: the CSVs (``csv``; they go into the HTML report) or
    the other formats (md, tex)."""
    formats = [fmt for fmt in report_outputs.TABLE_FORMATS if (fmt == "csv") == csv]
    return [f"{TABLES}/{stem}.{fmt}" for stem in report_outputs.table_stems(TRAINSETS, KIND) for fmt in formats]


def report_figures():
    """The report's figures for the enabled protocols: path -> caption file."""
    return {f"{FIGURES}/{name}": f"../report/{kind}.rst"
            for name, kind in report_outputs.figure_files(TRAINSETS, KIND).items()}


def generalisation_outputs():
    """The generalisation tables and figures (target `generalisation`)."""
    kinds = {p: KIND[p] for p in GENERALISATION_PROTOCOLS}
    tables = [f"{TABLES}/{stem}.{fmt}" for stem in report_outputs.generalisation_stems(kinds)
              for fmt in report_outputs.TABLE_FORMATS]
    figures = [f"{FIGURES}/{name}" for name in report_outputs.generalisation_figures(kinds)]
    return tables + figures


def all_targets():
    """Final outputs of everything the config enables (rule `all`)."""
    targets = [BASELINES, *per_trainset(SCORES), REPORT_MD, *report_figures(),
               f"{TABLES}/nas.csv", NAS_MD, f"{FIGURES}/nas.png"]
    if EXTRACT["enabled"]:
        targets += [f"{PRIM}/{t['space']}__{t['dataset']}.parquet" for t in EXTRACT["targets"]]
    if FILL["enabled"]:
        targets += [problem_file(p).replace(DATA, FILLED, 1) for p in FILL["problems"]]
    return targets
