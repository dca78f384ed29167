"""synflow: log of the summed synaptic flow, as in the NAS-Bench-Suite-Zero release (NASLib ``synflow``).

NASLib's ZeroCost predictor takes ``log(score)`` of the per-weight sum |W * dR/dW| (R = sum of the output of the
linearised network on an all-ones input), so the released values are already log-scaled; 0 stays 0.
"""

from __future__ import annotations

import math

from evoproxy.proxies.passes import PassResults
from evoproxy.proxies.registry import register


@register("synflow", needs=("synflow",))
def synflow(r: PassResults) -> float:
    """log of sum over conv/linear weights of |W * dR/dW| of the linearised network."""
    total = float(sum(float(t) for t in r.synflow_layers))
    if total == 0.0:
        return 0.0
    if not math.isfinite(total):
        return total
    return math.log(total) if total > 0 else -math.log(-total)
