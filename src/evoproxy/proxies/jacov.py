"""jacov: Jacobian covariance score as in NASLib (Mellor et al. 2021 v1, NASLib's variant; negative values).

J is the gradient of the summed logits w.r.t. each input image; with the eigenvalues v of the correlation matrix of
the rows of J, the score is -sum(log(v + 1e-5) + 1 / (v + 1e-5)). (zero-cost-nas's ``jacob_cov`` is a different
definition.)
"""

from __future__ import annotations

import numpy as np

from evoproxy.proxies.passes import PassResults
from evoproxy.proxies.registry import register


def jacov_score(jacobian: np.ndarray, k: float = 1e-5) -> float:
    """-sum(log(v + k) + 1/(v + k)) over the eigenvalues v of corrcoef(jacobian rows)."""
    corrs = np.corrcoef(jacobian)
    if not np.isfinite(corrs).all():
        return float("nan")
    v = np.linalg.eigvalsh(corrs)
    with np.errstate(invalid="ignore", divide="ignore"):
        return float(-np.sum(np.log(v + k) + 1.0 / (v + k)))


@register("jacov", needs=("jacobian",))
def jacov(r: PassResults) -> float:
    """Jacobian covariance score of the minibatch (NASLib definition)."""
    return jacov_score(r["jacobian"].rows)
