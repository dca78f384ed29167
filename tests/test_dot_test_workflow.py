"""The whole workflow on the synthetic .test data, run as the README states it: from the repository root,
`snakemake --cores 2 --directory <a copy of .test>` (download from the .test mirror, ingest, baselines, extract,
evolve with the final proxies, score, evaluate, report, NAS), then the outputs checked against the data and the
report's file list."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy.stats import kendalltau
from snakemake_helpers import REPO, SNAKEMAKE, dot_test_workdir, dry_run_jobs, run_snakemake, workflow_env

from evoproxy.protocols import trainsets
from evoproxy.report.outputs import TABLE_FORMATS, figure_files, table_stems

pytestmark = [pytest.mark.slow, pytest.mark.skipif(SNAKEMAKE is None, reason="snakemake is not installed")]


def test_whole_workflow_on_dot_test(tmp_path: Path) -> None:
    work = dot_test_workdir(tmp_path)
    cfg = yaml.safe_load((work / "config" / "config.yaml").read_text())
    t0 = time.monotonic()
    proc = subprocess.run([SNAKEMAKE, "--cores", "2", "--directory", str(work)], cwd=REPO, env=workflow_env(),
                          capture_output=True, text=True, timeout=1800)
    print(f"\nsnakemake --cores 2 --directory .test: {time.monotonic() - t0:.0f} s")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-6000:]
    results = work / "results"

    # every table and figure the report package lists for the enabled protocols, and the report itself
    protocols = list(cfg["protocols"])
    for stem in table_stems(protocols):
        for fmt in TABLE_FORMATS:
            assert (results / "tables" / f"{stem}.{fmt}").stat().st_size > 0, (stem, fmt)
    for name in figure_files(protocols):
        assert (results / "figures" / name).stat().st_size > 0, name
    report = (results / "report.md").read_text()
    for heading in ("## Multi-problem protocol", "## Single-problem transfer matrix", "## Leave-one-space-out",
                    "## NAS on NAS-Bench-201 with the evolved proxy", "## Exact configuration"):
        assert heading in report, heading
    assert "n_train: 100" in report and "population: 16" in report

    # one evaluation per training set, each with the evolved formula's tau on every test problem
    for proto in protocols:
        for trainset in trainsets(proto, cfg["problems"]):
            ev = pd.read_parquet(results / "evaluation" / proto / f"{trainset}.parquet")
            assert len(ev) and ev["protocol"].eq(proto).all()

    # the baselines equal Kendall's tau computed here from the shipped release file
    records = json.loads((work / "data/nb-suite-zero/zc_nasbench201.json").read_text())["cifar10"]
    acc = np.array([r["val_accuracy"] for r in records.values()])
    base = pd.read_parquet(results / "baselines.parquet").set_index(["problem", "proxy"])
    for proxy in ("nwot", "synflow", "plain"):
        score = np.array([r[proxy]["score"] for r in records.values()])
        assert base.loc[("nb201/cifar10", proxy), "kendall"] == pytest.approx(kendalltau(score, acc).statistic,
                                                                              abs=1e-12)

    # NAS: the accuracy reported for each search's best cell is the CSV's (ground truth looked up, never searched)
    truth = pd.read_csv(work / "data/nb-suite-zero/nb201_accuracy_15625.csv").set_index("arch")
    runs = sorted((results / "nas").glob("*/*/seed_*.json"))
    nas = cfg["nas"]
    assert len(runs) == len(nas["objectives"]) * len(nas["datasets"]) * nas["seeds"]
    for path in runs:
        run = json.loads(path.read_text())
        assert run["evaluations"] == nas["budget_evals"] and run["mode"] == "lookup"
        assert run["truth"]["accuracy"] == truth.loc[run["best"]["arch"], "cifar10_valid_acc_mean"]

    # the extraction target of the .test config, on the synthetic images
    prim = pd.read_parquet(results / "primitives" / "nb201__cifar10.parquet")
    assert len(prim) == 8 and prim[["nwot", "synflow", "params"]].notna().all().all()

    # Snakemake's job timings live in results/timings/, and a second run has nothing to do
    assert (results / "timings" / "report.tsv").exists() and not (results / "benchmarks").exists()
    assert dry_run_jobs(run_snakemake(work, "-n")) == {}
