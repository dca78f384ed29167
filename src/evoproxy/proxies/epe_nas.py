"""epe_nas: EPE-NAS (Lopes et al. 2021; NASLib ``epe_nas``): per-class Jacobian correlation score.

For each class c among the minibatch labels, s_c = sum(log(|corrcoef(J_c)| + 1e-5)) over the Jacobian rows of its
samples (a single sample gives corrcoef = 1; NASLib skips such classes above 100 outputs). With at most 100 output classes the score is sum_c |s_c|; with more,
s_c is divided by the class's sample count and the score is the mean over classes of sum_c' |s_c - s_c'|.
"""

from __future__ import annotations

import numpy as np

from evoproxy.proxies.passes import PassResults
from evoproxy.proxies.registry import ProxyError, register


def epe_score(jacobian: np.ndarray, labels: np.ndarray, n_classes: int, k: float = 1e-5) -> float:
    """EPE-NAS score of Jacobian rows ``jacobian`` with integer ``labels`` for a ``n_classes``-way output."""
    per_class: dict[int, float] = {}
    for c in np.unique(labels):
        rows = jacobian[labels == c]
        if len(rows) == 1:
            if n_classes > 100:
                continue  # NASLib's len() of the scalar correlation fails and the class is skipped
            per_class[int(c)] = float(np.log(1.0 + k))
            continue
        corrs = np.corrcoef(rows)
        with np.errstate(invalid="ignore", divide="ignore"):
            s = float(np.sum(np.log(np.abs(corrs) + k)))
        if n_classes > 100:
            s /= len(corrs)
        per_class[int(c)] = s
    vals = np.array(list(per_class.values()))
    if n_classes <= 100:
        return float(np.sum(np.abs(vals)))
    return float(np.sum(np.abs(vals[:, None] - vals[None, :])) / len(vals))


@register("epe_nas", needs=("jacobian",))
def epe_nas(r: PassResults) -> float:
    """EPE-NAS score of the minibatch."""
    if r.targets is None or r.targets.ndim != 1 or not np.issubdtype(r.targets.dtype, np.integer):
        raise ProxyError("epe_nas", "needs integer class labels (targets of shape [N]) to group samples by class")
    jac = r["jacobian"]
    return epe_score(jac.rows, r.targets, jac.n_outputs)
