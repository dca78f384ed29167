# evoproxy pipeline: download -> ingest -> baselines -> extract -> evolve -> select/score -> evaluate -> report -> nas
# Run: snakemake --cores all            (default config, small budgets)
#      snakemake paper --cores all --configfile config/paper.yaml   (the paper's budgets)
import sys
from pathlib import Path

from snakemake.utils import min_version, validate

# The rule files use small pure-Python helpers of the package (evoproxy.protocols); make them importable even when
# Snakemake itself runs outside the package's environment (e.g. `--use-conda` from envs/snakemake.yaml).
sys.path.insert(0, str(Path(workflow.basedir) / "src"))

min_version("8.0")

configfile: "config/config.yaml"


validate(config, "workflow/schemas/config.schema.yaml")

include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/primitives.smk"
include: "workflow/rules/evolve.smk"
include: "workflow/rules/report.smk"
include: "workflow/rules/nas.smk"


rule all:
    input:
        ALL_TARGETS,
    default_target: True
