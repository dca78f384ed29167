#!/usr/bin/env bash
# Install what the SLURM cluster test (tests/cluster) needs: Debian's slurm-wlm + munge (root, apt) and the
# Snakemake SLURM executor plugin (the package's `cluster` extra) into the venv. Idempotent; no daemons are started
# here: the test starts its own private munged/slurmctld/slurmd and stops them again.
#   .ci/slurm-setup.sh [VENV]      (default VENV: .venv)
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${1:-.venv}
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null; then
  if [ "$(id -u)" != 0 ]; then echo "slurm-setup: need root to apt-get install slurm-wlm munge" >&2; exit 2; fi
  if ! command -v apt-get >/dev/null; then echo "slurm-setup: apt-get not available" >&2; exit 2; fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
fi
"$VENV/bin/python" -m pip install -q -e '.[cluster]'
echo "slurm-setup: $(slurmctld -V), $("$VENV/bin/python" -m pip show snakemake-executor-plugin-slurm | grep ^Version)"
