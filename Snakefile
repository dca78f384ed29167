# evoproxy pipeline: download -> ingest -> baselines -> extract -> evolve -> select/score -> evaluate -> report -> nas
# Run: snakemake --cores all            (default config, small budgets)
#      snakemake --cores all --configfile config/paper.yaml paper   (the paper's budgets)
from snakemake.utils import min_version, validate

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
