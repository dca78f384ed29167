"""nwot: NASWOT score (Mellor et al. 2021, v2; NASLib ``nwot``): log|det K| of the binary-code kernel.

Each sample is coded by the sign of every ReLU input; K[i, j] counts the units on which samples i and j agree,
summed over all ``nn.ReLU`` modules (and calls).
"""

from __future__ import annotations

import numpy as np

from evoproxy.proxies.passes import PassResults
from evoproxy.proxies.registry import ProxyError, register


@register("nwot", needs=("forward",))
def nwot(r: PassResults) -> float:
    """log|det K| of the NASWOT binary-code kernel over the minibatch."""
    if r.relu_kernel is None or r.n_relu_calls == 0:
        raise ProxyError("nwot", "the model runs no nn.ReLU module; NASWOT codes each unit by the sign of its "
                                 "ReLU input (models using F.relu or other activations are not supported)")
    _sign, logdet = np.linalg.slogdet(r.relu_kernel)
    return float(logdet)
