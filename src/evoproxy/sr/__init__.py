"""Symbolic regression of zero-cost proxy formulas under a rank-correlation fitness (DEAP GP; optional PySR)."""

from evoproxy.sr.formula import Formula, load_formula

__all__ = ["Formula", "load_formula"]
