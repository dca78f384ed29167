"""Formula.score_model: proxies computed on a real torch model (lazy import) and combined by the formula."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from evoproxy.proxies import compute  # noqa: E402
from evoproxy.sr.formula import Formula  # noqa: E402


def test_score_model_equals_formula_on_computed_proxies():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, padding=1), torch.nn.ReLU(), torch.nn.Flatten(),
                                torch.nn.Linear(4 * 8 * 8, 10))
    x, y = torch.randn(8, 3, 8, 8), torch.randint(0, 10, (8,))
    f = Formula.from_text("add(log(params), sqrt(grad_norm))")
    got = f.score_model(model, x, y)
    vals = compute(model, x, y, names=["grad_norm", "params"])
    assert got == pytest.approx(np.log(abs(vals["params"])) + np.sqrt(abs(vals["grad_norm"])), rel=1e-9)
    with pytest.raises(ValueError, match="rank"):
        Formula.from_text("params", transform="rank").score_model(model, x, y)
