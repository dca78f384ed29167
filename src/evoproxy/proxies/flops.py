"""flops: forward FLOPs of one sample in millions, counted like tensorwatch's torchstat (NAS-Bench-Suite-Zero)."""

from __future__ import annotations

from evoproxy.proxies.passes import PassResults
from evoproxy.proxies.registry import register


@register("flops", needs=("stats",))
def flops(r: PassResults) -> float:
    """Forward FLOPs per sample in millions (conv/linear multiply-accumulates plus BN, ReLU and pooling ops)."""
    return float(r.flops)
