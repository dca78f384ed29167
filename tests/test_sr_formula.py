"""Formula AST, protected operators, transforms, round trips and the NaN / missing-proxy rules."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import sympy as sp

from evoproxy.problems import ProblemTable
from evoproxy.sr import primitives, transforms
from evoproxy.sr.formula import Formula, ast_from_sympy, ast_from_text, load_formula


def test_protected_ops_follow_documented_rules():
    a = np.array([1.0, 2.0, -3.0, np.nan])
    b = np.array([0.0, 1e-12, 2.0, 1.0])
    np.testing.assert_array_equal(primitives.protected_div(a, b)[:3], [1.0, 1.0, -1.5])
    assert np.isnan(primitives.protected_div(a, b)[3])
    np.testing.assert_allclose(primitives.protected_log(np.array([0.0, -np.e, 1e-11, 4.0])), [0, 1, 0, np.log(4)])
    np.testing.assert_allclose(primitives.protected_sqrt(np.array([-4.0, 9.0])), [2.0, 3.0])
    assert np.isnan(primitives.protected_log(np.array([np.nan]))[0])
    with np.errstate(all="raise"):  # no floating-point warnings escape
        primitives.FUNCTIONS["mul"].fn(np.array([1e300]), np.array([1e300]))
        primitives.protected_div(np.array([1.0]), np.array([0.0]))


def test_min_max_are_elementwise_propagate_nan_and_print_as_min_max():
    a, b = np.array([1.0, 5.0, np.nan, -2.0]), np.array([3.0, 4.0, 1.0, np.nan])
    lo, hi = primitives.get("min").fn(a, b), primitives.get("max").fn(a, b)
    np.testing.assert_array_equal(lo[:2], [1.0, 4.0])
    np.testing.assert_array_equal(hi[:2], [3.0, 5.0])
    assert np.isnan(lo[2:]).all() and np.isnan(hi[2:]).all()  # NaN stays NaN: the row ranks last
    f = Formula.from_text("min(nwot, max(flops, snip))")
    assert f.sympy_text == "Min(nwot, Max(flops, snip))"
    assert f.latex == r"\min\left(\mathrm{nwot}, \max\left(\mathrm{flops}, \mathrm{snip}\right)\right)"
    table = ProblemTable("nb201", "cifar10", pd.DataFrame({"arch": list("abc"), "nwot": [1.0, 2.0, 3.0],
                                                           "flops": [3.0, 0.0, 1.0], "snip": [0.0, 1.0, 5.0],
                                                           "val_acc": [1.0, 2.0, 3.0]}))
    np.testing.assert_array_equal(f.evaluate_table(table), [1.0, 1.0, 3.0])


def test_text_round_trip_and_validation():
    text = "add(nwot, log(div(flops, sqrt(neg(synflow)))))"
    f = Formula.from_text(text)
    assert f.text == text and ast_from_text(f.text) == f.ast
    assert f.proxies == ["flops", "nwot", "synflow"]
    assert f.size == 8 and f.depth == 5
    with pytest.raises(ValueError, match="unknown function 'pow'"):
        Formula.from_ast(["pow", ["proxy", "nwot"], ["proxy", "flops"]])
    with pytest.raises(ValueError, match="takes 2 argument"):
        Formula.from_ast(["add", ["proxy", "nwot"]])


def test_single_proxy_formula():
    f = Formula.from_ast(["proxy", "nwot"])
    x = np.array([3.0, 1.0, 2.0])
    np.testing.assert_array_equal(f.evaluate({"nwot": x}), x)
    assert f.proxies == ["nwot"] and f.sympy_text == "nwot"


def test_json_sympy_evaluation_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    cols = {p: rng.uniform(0.5, 5.0, 200) * rng.choice([-1, 1], 200) for p in ("nwot", "flops", "jacov", "snip")}
    f = Formula.from_text("sub(mul(nwot, sqrt(flops)), div(log(jacov), add(snip, neg(nwot))))")
    path = tmp_path / "run.json"
    path.write_text(json.dumps(f.to_dict()))
    g = load_formula(path)
    assert g.ast == f.ast
    expr = sp.sympify(g.sympy_text, locals={p: sp.Symbol(p, real=True) for p in cols})
    syms = sorted(expr.free_symbols, key=lambda s: s.name)
    via_sympy = sp.lambdify(syms, expr, "numpy")(*(cols[s.name] for s in syms))
    np.testing.assert_allclose(g.evaluate(cols), via_sympy, rtol=1e-10)
    np.testing.assert_array_equal(g.evaluate(cols), f.evaluate(cols))
    # sympy -> AST -> evaluation gives the same numbers too
    np.testing.assert_allclose(Formula.from_ast(ast_from_sympy(expr)).evaluate(cols), via_sympy, rtol=1e-10)
    assert "\\frac" in g.latex and "\\sqrt" in g.latex
    # the printed form is read back from the file (no second simplification), and a hand-edited formula is
    # printed from its own AST
    assert g.sympy_text == f.sympy_text and g._sympy is None
    edited = load_formula_from({**f.to_dict(), "formula": ["proxy", "nwot"]}, tmp_path)
    assert edited.sympy_text == "nwot"


def test_missing_proxy_gives_all_nan_and_nan_propagates():
    f = Formula.from_text("add(nwot, zen)")
    out = f.evaluate({"nwot": np.array([1.0, 2.0])})
    assert out.shape == (2,) and np.isnan(out).all()
    out = f.evaluate({"nwot": np.array([1.0, np.nan]), "zen": np.array([1.0, 1.0])})
    assert out[0] == 2.0 and np.isnan(out[1])


def test_transforms():
    x = np.array([-10.0, 0.0, 3.0, np.nan, np.inf, 3.0])
    np.testing.assert_allclose(transforms.apply(x, "signed_log")[:3], [-np.log(11), 0, np.log(4)])
    r = transforms.apply(x, "rank")
    np.testing.assert_allclose(r[[0, 1, 2, 5]], [0.25, 0.5, 0.875, 0.875])
    assert np.isnan(r[3]) and np.isnan(r[4])
    with pytest.raises(ValueError, match="unknown terminal transform"):
        transforms.apply(x, "boxcox")


def test_evaluate_table_applies_run_transform():
    df = pd.DataFrame({"arch": ["a", "b", "c"], "nwot": [1.0, 100.0, 10.0], "val_accuracy": [1.0, 2.0, 3.0]})
    t = ProblemTable("nb201", "cifar10", df)
    f = Formula.from_ast(["proxy", "nwot"], transform="signed_log")
    np.testing.assert_allclose(f.evaluate_table(t), np.log1p([1.0, 100.0, 10.0]))
    assert np.isnan(Formula.from_ast(["proxy", "zen"]).evaluate_table(t)).all()


def test_load_formula_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="formula file not found"):
        load_formula(tmp_path / "nope.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"text": "x"}')
    with pytest.raises(ValueError, match="no 'formula' field"):
        load_formula(bad)
    bad.write_text('{"formula": ["add", ["proxy", "a"]]}')
    with pytest.raises(ValueError, match=r"bad.json: .*takes 2"):
        load_formula(bad)


def test_sympy_form_of_degenerate_and_large_formulas():
    """Identically-zero denominators / log arguments follow the protected rule in sympy too (no complex infinity),
    and a large formula is converted without sympy.simplify (which can run for hours) yet evaluates the same."""
    f = Formula.from_text("add(div(nwot, sub(flops, flops)), log(sub(snip, snip)))")
    assert f.sympy_text == "1"
    assert np.all(f.evaluate({"nwot": np.array([2.0, 3.0]), "flops": np.ones(2), "snip": np.ones(2)}) == 1.0)
    text = "nwot"
    for i in range(40):  # 121 nodes of nested protected operators
        text = f"add(log(sqrt({text})), div(flops, {'snip' if i % 2 else 'jacov'}))"
    big = Formula.from_text(text)
    assert big.size > 60 and "zoo" not in big.sympy_text
    rng = np.random.default_rng(0)
    cols = {p: rng.uniform(0.5, 5.0, 50) for p in ("nwot", "flops", "snip", "jacov")}
    syms = sorted(big.sympy.free_symbols, key=lambda s: s.name)
    via_sympy = sp.lambdify(syms, big.sympy, "numpy")(*(cols[s.name] for s in syms))
    np.testing.assert_allclose(big.evaluate(cols), via_sympy, rtol=1e-10)


def load_formula_from(run: dict, tmp_path) -> Formula:
    path = tmp_path / "edited.json"
    path.write_text(json.dumps(run))
    return load_formula(path)
