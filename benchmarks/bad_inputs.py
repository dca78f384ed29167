"""Feed the guarded bad inputs to the real CLI and tabulate what happens (input -> exit code, the one-line message).

    .venv/bin/python benchmarks/bad_inputs.py [--out BENCHMARKS.md]

Every case runs ``evoproxy ...`` in a fresh temporary folder on small generated tables; the table is written to the
``bad-input`` section of BENCHMARKS.md. tests/test_bad_input.py asserts the same outcomes.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mdsection import write_section  # noqa: E402

from evoproxy.problems import ProblemTable, save_table  # noqa: E402

REPO = Path(__file__).resolve().parents[1]


def _setup(tmp: Path) -> None:
    rng = np.random.default_rng(0)
    n = 200
    df = pd.DataFrame({"arch": [f"a{i}" for i in range(n)], "nwot": rng.normal(size=n), "flops": rng.uniform(1, 9, n)})
    df["val_accuracy"] = df["nwot"] + rng.normal(size=n)
    save_table(ProblemTable("nb201", "cifar10", df), tmp / "data/nb201__cifar10.parquet")
    nan = df.copy()
    nan.loc[:4, "val_accuracy"] = np.nan
    save_table(ProblemTable("nb201", "cifar10", nan), tmp / "nan/nb201__cifar10.parquet")
    (tmp / "bad.yaml").write_text("sr:\n  population: [1, 2\n")
    (tmp / "file.txt").write_text("x")
    (tmp / "bad.npz").write_bytes(b"not a zip file")
    rec = {"arch": "(0, 0, 0, 0, 0, 2)", "val_accuracy": 80.0, "zen": {"score": -1e8}, "nwot": {"score": 1.0}}
    (tmp / "src").mkdir()
    (tmp / "src/zc_nasbench201.json").write_text(json.dumps({"cifar10": {rec["arch"]: rec}}))
    lines = ["nb201_index,arch,cifar10_valid_acc_mean,cifar100_valtest_acc_mean,ImageNet16-120_valtest_acc_mean"]
    lines += [f'{i},"(0, 0, 0, 0, 0, {i % 5})",90.0,70.0,40.0' for i in range(30)]
    (tmp / "acc").mkdir()
    (tmp / "acc/nb201_accuracy_15625.csv").write_text("\n".join(lines)[:-9] + "\n")
    with open(tmp / "data/run.json", "w") as fh:
        json.dump({"formula": ["proxy", "nwot"], "split": {"n_train": 50}}, fh)


CASES = [
    ("release value -1e8 (NASLib's NaN sentinel)", "ingest --src src --out out"),
    ("sr.terminals: [nwot_typo]", "evolve --data data --sr-json '{\"terminals\": [\"nwot_typo\"]}' --out r.json"),
    ("--n-train -5", "evolve --data data --n-train -5 --out r.json"),
    ("--max-train-fraction 1", "evolve --data data --max-train-fraction 1 --out r.json"),
    ("evaluate --n-train 0", "evaluate --formula data/run.json --data data --train-problems nb201/cifar10 --n-train 0 "
                              "--out e.parquet"),
    ("truncated nb201_accuracy_15625.csv", "ingest --src acc --out out2 --accuracy-only"),
    ("--config with malformed YAML", "evolve --data data --config bad.yaml --out r.json"),
    ("--sr-json '[1]'", "evolve --data data --sr-json '[1]' --out r.json"),
    ("--data-file not a zip npz", "extract --space nb201 --dataset cifar10 --archs 2 --proxies nwot --device cpu "
                                  "--data-file bad.npz --out p.parquet"),
    ("search --images not a zip npz", "search --mode online --objective nwot --images bad.npz --budget-evals 2 "
                                      "--device cpu --out s.json"),
    ("--src given a file", "ingest --src file.txt --out out"),
    ("ingest --out is a file", "ingest --src src --out file.txt"),
    ("--dest is a file", "download --dest file.txt --mirror src"),
    ("evolve --out DIR (checked before the GP runs)", "evolve --data data --out data"),
    ("table with 5 NaN val_accuracy (score, all rows)",
     "score --formula data/run.json --data nan --split all --out s.parquet"),
]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default=str(REPO / "BENCHMARKS.md"))
    args = p.parse_args()
    rows = ["| input | command | exit | what happens (first line of stderr, or the documented handling) |",
            "|---|---|---:|---|"]
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        _setup(tmp)
        for what, cmd in CASES:
            proc = subprocess.run(f"evoproxy {cmd}", shell=True, cwd=tmp, env=env, capture_output=True, text=True,
                                  timeout=600)
            err = [ln for ln in proc.stderr.splitlines() if ln.startswith("evoproxy ") or "Traceback" in ln]
            if proc.returncode == 0 and "ingest --src src" in cmd:
                meta = json.loads((tmp / "out/nb201.manifest.json").read_text())["problems"]["nb201/cifar10"]
                msg = (f"stored as NaN, counted: sentinel_counts {meta['sentinel_counts']}, "
                       f"nonfinite_counts {meta['nonfinite_counts']}")
            elif proc.returncode == 0 and "score" in cmd:
                s = pd.read_parquet(tmp / "s.parquet").iloc[0]
                msg = f"NaN-accuracy rows left out: n = {s['n']}, tau {s['kendall']:.4f}, rho {s['spearman']:.4f}"
            else:
                msg = (err[0] if err else proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "")
            msg = msg.replace(str(tmp) + "/", "").replace(str(tmp), ".").replace("|", "\\|")
            rows.append(f"| {what} | `evoproxy {cmd.split(' --')[0]} ...` | {proc.returncode} | {msg} |")
    body = ("Generated by `.venv/bin/python benchmarks/bad_inputs.py` (each case run through the real CLI; "
            "tests/test_bad_input.py asserts the same outcomes).\n\n" + "\n".join(rows))
    write_section(args.out, "bad-input", "### Guarded bad input\n\n" + body)
    print(body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
