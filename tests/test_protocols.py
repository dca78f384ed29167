"""Training and test sets of the three evaluation protocols."""

from __future__ import annotations

import pytest

from evoproxy.protocols import evaluation_problems, trainsets

PROBLEMS = ["nb101/cifar10", "nb201/cifar10", "nb201/cifar100", "tnb101_micro/jigsaw"]


def test_multi_single_loso_trainsets() -> None:
    assert trainsets("multi", PROBLEMS) == {"all": PROBLEMS}
    assert trainsets("single", PROBLEMS)["nb201__cifar100"] == ["nb201/cifar100"]
    loso = trainsets("loso", PROBLEMS)
    assert sorted(loso) == ["no_nb101", "no_nb201", "no_tnb101_micro"]
    assert loso["no_nb201"] == ["nb101/cifar10", "tnb101_micro/jigsaw"]
    assert trainsets("loso", ["nb201/cifar10", "nb201/cifar100"]) == {}  # one space: nothing to leave out


def test_evaluation_problems() -> None:
    loso = trainsets("loso", PROBLEMS)
    assert evaluation_problems("loso", loso["no_nb201"], PROBLEMS) == ["nb201/cifar10", "nb201/cifar100"]
    assert evaluation_problems("single", ["nb101/cifar10"], PROBLEMS) == PROBLEMS
    with pytest.raises(ValueError, match="unknown protocol 'xval'"):
        trainsets("xval", PROBLEMS)


def test_leave_one_problem_and_one_task_out() -> None:
    lopo = trainsets("lopo", PROBLEMS)
    assert sorted(lopo) == ["no_nb101__cifar10", "no_nb201__cifar10", "no_nb201__cifar100", "no_tnb101_micro__jigsaw"]
    assert lopo["no_nb201__cifar10"] == ["nb101/cifar10", "nb201/cifar100", "tnb101_micro/jigsaw"]
    for name, train in lopo.items():
        held = evaluation_problems("lopo", train, PROBLEMS)
        assert len(held) == 1 and held[0].replace("/", "__") == name[3:] and held[0] not in train
    loto = trainsets("loto", PROBLEMS)
    assert loto == {"no_nb201__cifar10": ["nb201/cifar100"], "no_nb201__cifar100": ["nb201/cifar10"]}
    assert evaluation_problems("loto", loto["no_nb201__cifar10"], PROBLEMS) == ["nb201/cifar10"]
