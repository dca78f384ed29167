"""Hand-crafted baselines reproduce the anchor figures of the mirror (../shared/README.md)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from evoproxy.cli import main


def test_nb201_cifar10_anchor_figures(ingested_dir: Path, tmp_path: Path) -> None:
    out, md = tmp_path / "b.parquet", tmp_path / "b.md"
    assert main(["baselines", "--data", str(ingested_dir), "--out", str(out), "--markdown", str(md)]) == 0
    df = pd.read_parquet(out).set_index(["problem", "proxy"])
    nwot, jacov = df.loc[("nb201/cifar10", "nwot")], df.loc[("nb201/cifar10", "jacov")]
    assert nwot["n"] == 9445
    assert nwot["spearman"] == pytest.approx(0.792, abs=1e-3) and nwot["kendall"] == pytest.approx(0.603, abs=1e-3)
    assert jacov["spearman"] == pytest.approx(0.818, abs=1e-3) and jacov["kendall"] == pytest.approx(0.632, abs=1e-3)
    assert df.loc[("nb201/cifar10", "synflow"), "spearman"] == pytest.approx(0.732, abs=1e-3)
    assert ("nb101/cifar10", "nwot") not in df.index  # absent proxy: no row, not a fake value
    assert df.index.get_level_values(0).nunique() == 13
    text = md.read_text()
    assert "| nb201/cifar10 | 9445 |" in text and "**0.632**" in text


def test_top5_precision_bounds(ingested_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "b.parquet"
    main(["baselines", "--data", str(ingested_dir), "--problems", "nb201/cifar10,nb301/cifar10", "--out", str(out)])
    df = pd.read_parquet(out)
    assert set(df["problem"]) == {"nb201/cifar10", "nb301/cifar10"}
    assert df["top5"].between(0, 1).all()
