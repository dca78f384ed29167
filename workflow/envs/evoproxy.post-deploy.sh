#!/usr/bin/env bash
# Run by Snakemake inside the freshly created workflow/envs/evoproxy.yaml env, from the working directory:
# installs this package (dependencies are already pinned in the env file). EVOPROXY_SRC overrides the source folder
# (workflow/rules/common.smk sets it to the repository when it is unset, so --directory .test works too).
set -euo pipefail
src="${EVOPROXY_SRC:-$PWD}"
if ! grep -qs '^name = "evoproxy"' "$src/pyproject.toml"; then
  echo "evoproxy post-deploy: $src/pyproject.toml is not the evoproxy project; run snakemake from the repository" \
       "root or set EVOPROXY_SRC=/path/to/evoproxy" >&2
  exit 1
fi
python -m pip install --no-deps -e "$src"
