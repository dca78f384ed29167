"""File names of the tables and figures ``evoproxy report`` writes, for the enabled protocols.

One definition for both :func:`evoproxy.report.report.build_report` (which writes them) and the Snakemake ``report``
rule (which declares them as outputs). Pure Python and stdlib only: the workflow imports it while building the DAG,
possibly outside the package's environment.
"""

from __future__ import annotations

from collections.abc import Iterable

TABLE_FORMATS: tuple[str, ...] = ("csv", "md", "tex")
"""Every table is written in these formats (``<stem>.<format>``)."""
METRICS: tuple[str, ...] = ("kendall", "spearman")
WINS_TABLE, WINS_SUMMARY_TABLE, RUNS_TABLE = "wins", "wins_summary", "runs"
SUMMARY_TABLES: tuple[str, ...] = (WINS_TABLE, WINS_SUMMARY_TABLE, RUNS_TABLE)
"""Tables over all protocols: wins per problem, win counts per protocol, run statistics."""
PARETO_FIGURE = "pareto.png"
TRANSFER_FIGURE = "transfer_matrix.png"


def protocol_table(protocol: str, metric: str) -> str:
    """Stem of a protocol's table of ``metric``: the transfer matrix for ``single``, per problem otherwise."""
    if protocol == "single":
        return f"transfer_{metric}"
    return f"per_problem_{protocol}" + ("" if metric == "kendall" else f"_{metric}")


def bars_figure(protocol: str) -> str:
    """Evolved vs best single proxy with 95% intervals (every protocol but ``single``)."""
    return f"bars_{protocol}.png"


def fitness_figure(protocol: str) -> str:
    """Fitness per generation of a protocol's runs."""
    return f"fitness_{protocol}.png"


def table_stems(protocols: Iterable[str]) -> list[str]:
    """Stems of every table written for ``protocols``."""
    return [*SUMMARY_TABLES, *(protocol_table(p, m) for p in protocols for m in METRICS)]


def figure_files(protocols: Iterable[str]) -> dict[str, str]:
    """Every figure written for ``protocols``: file name -> kind (``pareto``, ``transfer_matrix``, ``bars`` or
    ``fitness``; the workflow's caption ``workflow/report/<kind>.rst``)."""
    files = {PARETO_FIGURE: "pareto"}
    for p in protocols:
        files.update({TRANSFER_FIGURE: "transfer_matrix"} if p == "single" else {bars_figure(p): "bars"})
        files[fitness_figure(p)] = "fitness"
    return files
