"""Unit tests of the local-cluster helper that need neither root nor SLURM: config file and config-link safety."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from .slurm_local import LocalSlurm, SlurmError


def test_config_describes_this_machine(tmp_path: Path) -> None:
    cluster = LocalSlurm(tmp_path, system_conf=None)
    cluster.write_config()
    text = cluster.conf.read_text()
    conf = dict(line.split("=", 1) for line in text.splitlines()
                if "=" in line and not line.startswith(("#", "NodeName", "PartitionName")))
    assert conf["SelectType"] == "select/cons_tres"
    assert conf["AccountingStorageType"] == "accounting_storage/none"
    assert conf["JobCompType"] == "jobcomp/filetxt" and conf["JobCompLoc"] == str(cluster.jobcomp_log)
    assert conf["AuthInfo"] == f"socket={cluster.munge_socket}"
    assert conf["SlurmctldPort"] != conf["SlurmdPort"]
    assert int(conf["MinJobAge"]) >= 120  # squeue must still see finished jobs (plugin threshold: 3 x 40 s)
    node = next(line for line in text.splitlines() if line.startswith("NodeName="))
    assert f"CPUs={os.cpu_count()}" in node and f"NodeName={cluster.node} " in node
    assert f"PartitionName=debug Nodes={cluster.node} Default=YES" in text
    assert not any(cluster.running().values())


def _cluster(tmp_path: Path, name: str, link: Path) -> LocalSlurm:
    cluster = LocalSlurm(tmp_path / name, system_conf=link)
    cluster.write_config()
    return cluster


def test_config_link_is_created_and_removed(tmp_path: Path) -> None:
    link = tmp_path / "etc" / "slurm.conf"
    cluster = _cluster(tmp_path, "a", link)
    cluster._link_system_conf()
    assert link.is_symlink() and link.resolve() == cluster.conf
    cluster.stop()  # nothing running: stop only removes the link
    assert not link.exists() and not link.is_symlink()


def test_an_existing_config_file_is_never_replaced(tmp_path: Path) -> None:
    link = tmp_path / "slurm.conf"
    link.write_text("ClusterName=production\n")
    cluster = _cluster(tmp_path, "a", link)
    with pytest.raises(SlurmError, match="already exists"):
        cluster._link_system_conf()
    cluster.stop()
    assert link.read_text() == "ClusterName=production\n"


def test_link_of_a_live_cluster_is_kept_and_a_dead_ones_replaced(tmp_path: Path) -> None:
    link = tmp_path / "slurm.conf"
    other = _cluster(tmp_path, "other", link)
    other._link_system_conf()
    daemon = subprocess.Popen(["sleep", "60"])  # stands in for the other cluster's slurmctld
    try:
        other.pidfile("slurmctld").write_text(f"{daemon.pid}\n")
        mine = _cluster(tmp_path, "mine", link)
        with pytest.raises(SlurmError, match="already exists"):
            mine._link_system_conf()
        mine._unlink_system_conf()  # not ours: untouched
        assert link.resolve() == other.conf
    finally:
        daemon.kill()
        daemon.wait()
    # the other cluster died without stop(): its link is stale and gets replaced
    mine._link_system_conf()
    assert link.resolve() == mine.conf


def test_start_needs_root(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("running as root")
    with pytest.raises(SlurmError, match="root"):
        LocalSlurm(tmp_path, system_conf=None).start()


def test_count_only_gpu_gres(tmp_path: Path) -> None:
    cluster = LocalSlurm(tmp_path, system_conf=None, gpus=2)
    cluster.write_config()
    node = next(line for line in cluster.conf.read_text().splitlines() if line.startswith("NodeName="))
    assert " Gres=gpu:2 " in node and "GresTypes=gpu" in cluster.conf.read_text()
    assert (tmp_path / "gres.conf").read_text() == f"NodeName={cluster.node} Name=gpu File=/dev/null Count=2\n"
    LocalSlurm(tmp_path / "nogpu", system_conf=None).write_config()
    assert "Gres=" not in (tmp_path / "nogpu" / "slurm.conf").read_text().split("NodeName=", 1)[1]
