"""What the two TransNAS-Bench-101 spaces share: the seven Taskonomy tasks and the task-aware network builder.

TransNAS-Bench-101 (Duan et al. 2021) trains every architecture of its micro (cell) and macro (skeleton) space on
seven Taskonomy tasks. Each task has its own input and head (:mod:`.tnb101_net`), built as NASLib builds them for
NAS-Bench-Suite-Zero; ``to_model(arch, task=...)`` / ``model_for(arch, task)`` pick the task (default
``class_scene``). Inputs are 256 x 256 RGB images, except jigsaw: 9 tiles of 64 x 64 (N, 9, 3, 64, 64). Outputs:
class_object 100 and class_scene 63 class logits (trained against soft label distributions), room_layout a 9-vector,
jigsaw 1000 permutation logits, segmentsemantic 17 x 256 x 256 logits, normal and autoencoder a 3 x 256 x 256 image.
This module is torch-free.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Sequence
from typing import Any

from evoproxy.spaces.base import SearchSpace, TaskSpec

TASKS: dict[str, TaskSpec] = {
    "class_scene": TaskSpec("class_scene", (3, 256, 256), 63, "soft"),
    "class_object": TaskSpec("class_object", (3, 256, 256), 100, "soft"),
    "room_layout": TaskSpec("room_layout", (3, 256, 256), 9, "regression"),
    "jigsaw": TaskSpec("jigsaw", (9, 3, 64, 64), 1000, "permutation"),
    "segmentsemantic": TaskSpec("segmentsemantic", (3, 256, 256), 17, "pixel_class"),
    "normal": TaskSpec("normal", (3, 256, 256), 3, "image"),
    "autoencoder": TaskSpec("autoencoder", (3, 256, 256), 3, "image"),
}
"""The seven TransNAS-Bench-101 tasks (NAS-Bench-Suite-Zero releases the first four)."""

DEFAULT_TASK = "class_scene"


class TNB101Space(SearchSpace):
    """Base of ``tnb101_micro`` and ``tnb101_macro``: an arch maps to a TNB net code, built per task."""

    tasks = TASKS
    default_task = DEFAULT_TASK
    num_classes_default = TASKS[DEFAULT_TASK].num_outputs

    @abstractmethod
    def net_code(self, arch: str | Sequence[Any]) -> str:
        """The TransNAS-Bench-101 arch string, e.g. ``64-41414-1_02_333`` or ``64-1234-basic``."""

    def describe(self, arch: str | Sequence[Any]) -> str:
        """The TransNAS-Bench-101 arch string (what its API and model builder take)."""
        return self.net_code(arch)

    def to_model(self, arch: str | Sequence[Any], num_classes: int | None = None,  # noqa: ANN201 - torch lazy
                 task: str | None = None):
        """The benchmark's model of ``arch`` for ``task`` (default class_scene). The heads are fixed by the task:
        ``num_classes``, when given, must equal the task's outputs."""
        from evoproxy.spaces.tnb101_net import build_model

        spec = self.task(task or DEFAULT_TASK)
        if num_classes is not None and num_classes != spec.num_outputs:
            raise ValueError(f"{self.name}: task {spec.name} has {spec.num_outputs} outputs, not {num_classes}")
        return build_model(self.net_code(arch), spec.name)

    def model_for(self, arch: str | Sequence[Any], task: str, num_classes: int | None = None):  # noqa: ANN201
        return self.to_model(arch, num_classes=num_classes, task=task)

    def loss_fn(self, task: str) -> Callable:
        """NASLib's TNB loss: soft-label cross-entropy (class_*), MSE (room_layout), L1 (normal, autoencoder),
        cross-entropy (jigsaw, segmentsemantic)."""
        from evoproxy.spaces.tnb101_net import loss_fn

        return loss_fn(self.task(task).name)
