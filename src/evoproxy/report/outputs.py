"""File names of the tables and figures ``evoproxy report`` writes, for the enabled protocols.

One definition for both :func:`evoproxy.report.report.build_report` (which writes them) and the Snakemake ``report``
rule (which declares them as outputs). Pure Python and stdlib only: the workflow imports it while building the DAG,
possibly outside the package's environment.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

GENERALISATION_KINDS: tuple[str, ...] = ("loso", "lopo", "loto")
"""Protocol kinds whose test problems were never seen (evoproxy.protocols.GENERALISATION, repeated here so this
module stays importable without the package's dependencies; a test keeps them equal)."""
GENERALISATION_TABLE, GENERALISATION_SUMMARY = "generalisation", "generalisation_summary"

TABLE_FORMATS: tuple[str, ...] = ("csv", "md", "tex")
"""Every table is written in these formats (``<stem>.<format>``)."""
METRICS: tuple[str, ...] = ("kendall", "spearman")
WINS_TABLE, WINS_SUMMARY_TABLE, RUNS_TABLE = "wins", "wins_summary", "runs"
SUMMARY_TABLES: tuple[str, ...] = (WINS_TABLE, WINS_SUMMARY_TABLE, RUNS_TABLE)
"""Tables over all protocols: wins per problem, win counts per protocol, run statistics."""
PARETO_FIGURE = "pareto.png"
TRANSFER_FIGURE = "transfer_matrix.png"


def protocol_table(protocol: str, metric: str, kind: str | None = None) -> str:
    """Stem of a protocol's table of ``metric``: the transfer matrix for a ``single`` protocol (``transfer_<metric>``,
    ``transfer_<protocol>_<metric>`` for another block of that kind), per problem otherwise."""
    if (kind or protocol) == "single":
        return f"transfer_{metric}" if protocol == "single" else f"transfer_{protocol}_{metric}"
    return f"per_problem_{protocol}" + ("" if metric == "kendall" else f"_{metric}")


def transfer_figure(protocol: str) -> str:
    """The transfer-matrix heatmap of a ``single`` protocol block."""
    return TRANSFER_FIGURE if protocol == "single" else f"transfer_matrix_{protocol}.png"


def bars_figure(protocol: str) -> str:
    """Evolved vs best single proxy with 95% intervals (every protocol but ``single``)."""
    return f"bars_{protocol}.png"


def fitness_figure(protocol: str) -> str:
    """Fitness per generation of a protocol's runs."""
    return f"fitness_{protocol}.png"


def _kind(protocol: str, kinds: Mapping[str, str] | None) -> str:
    return (kinds or {}).get(protocol, protocol)


def generalisation_stems(kinds: Mapping[str, str]) -> list[str]:
    """Tables of the generalisation protocols (``kinds``: protocol -> kind), if any: per held-out problem (Kendall,
    Spearman) and the summary over seeds."""
    if not any(k in GENERALISATION_KINDS for k in kinds.values()):
        return []
    return [GENERALISATION_TABLE, f"{GENERALISATION_TABLE}_spearman", GENERALISATION_SUMMARY]


def generalisation_figure(kind: str) -> str:
    """Per held-out problem: the spread over seeds next to the baselines, one figure per protocol kind."""
    return f"generalisation_{kind}.png"


def generalisation_figures(kinds: Mapping[str, str]) -> list[str]:
    return [generalisation_figure(k) for k in dict.fromkeys(kinds.values()) if k in GENERALISATION_KINDS]


def table_stems(protocols: Iterable[str], kinds: Mapping[str, str] | None = None) -> list[str]:
    """Stems of every table written for ``protocols`` (``kinds``: protocol -> kind where they differ)."""
    protocols = list(protocols)
    return [*SUMMARY_TABLES, *(protocol_table(p, m, _kind(p, kinds)) for p in protocols for m in METRICS),
            *generalisation_stems({p: _kind(p, kinds) for p in protocols})]


def figure_files(protocols: Iterable[str], kinds: Mapping[str, str] | None = None) -> dict[str, str]:
    """Every figure written for ``protocols``: file name -> kind (``pareto``, ``transfer_matrix``, ``bars``,
    ``fitness`` or ``generalisation``; the workflow's caption ``workflow/report/<kind>.rst``)."""
    protocols = list(protocols)
    files = {PARETO_FIGURE: "pareto"}
    for p in protocols:
        single = _kind(p, kinds) == "single"
        files.update({transfer_figure(p): "transfer_matrix"} if single else {bars_figure(p): "bars"})
        files[fitness_figure(p)] = "fitness"
    for name in generalisation_figures({p: _kind(p, kinds) for p in protocols}):
        files[name] = "generalisation"
    return files
