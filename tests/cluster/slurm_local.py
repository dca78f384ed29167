"""Start and stop a private single-node SLURM cluster (munged + slurmctld + slurmd) without systemd.

Everything lives under one state folder: the munge key and socket, ``slurm.conf``, spool/state dirs, pid files and
daemon logs. Ports are picked free at start, so the cluster never touches a system-wide SLURM/munge installation and
two clusters can coexist. Clients (sbatch, squeue, sacct, scontrol) find it through ``SLURM_CONF``: see
:meth:`LocalSlurm.env`.

Needs root (slurmd runs jobs as the submitting user) and the Debian packages ``slurm-wlm`` and ``munge``.

One system path is touched: the Snakemake SLURM job-step executor starts ``srun`` inside each job with every
``SLURM_*`` variable removed (``SLURM_CONF`` included), so srun must find the config at the compiled-in default
``/etc/slurm/slurm.conf``. :meth:`LocalSlurm.start` links that path to this cluster's config when it does not exist,
and :meth:`LocalSlurm.stop` removes the link again; an existing file there (a real installation) is never touched and
makes :meth:`start` refuse.

By hand::

    python tests/cluster/slurm_local.py start /tmp/slurm     # prints: export SLURM_CONF=/tmp/slurm/slurm.conf
    SLURM_CONF=/tmp/slurm/slurm.conf sinfo
    python tests/cluster/slurm_local.py stop /tmp/slurm
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from evoproxy.fileio import pid_alive

DAEMONS = ("munged", "slurmctld", "slurmd")
SYSTEM_CONF = Path("/etc/slurm/slurm.conf")
HEADER = "# single-node test cluster written by tests/cluster/slurm_local.py"
CLIENTS = ("sbatch", "squeue", "scontrol", "sinfo", "sacct")


class SlurmError(RuntimeError):
    """The local cluster could not be started (message says which daemon and where its log is)."""


def missing_binaries() -> list[str]:
    """Names of the SLURM/munge executables that are not on PATH (empty: all present)."""
    return [b for b in (*DAEMONS, *CLIENTS, "mungekey") if shutil.which(b) is None]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _node_memory_mb() -> int:
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) // 1024
    raise SlurmError("cannot read MemTotal from /proc/meminfo")


def _stale_link(link: Path) -> bool:
    """A config link written by this module whose cluster is gone (target missing, or none of its daemons alive)."""
    target = Path(os.readlink(link))
    if not target.exists():
        return True
    if not target.read_text().startswith(HEADER):
        return False
    for pf in (target.parent / "run").glob("*.pid"):
        try:
            if pid_alive(int(pf.read_text().split()[0])):
                return False
        except (ValueError, IndexError):
            continue
    return True


class LocalSlurm:
    """A one-node SLURM cluster rooted at ``root``; :meth:`start` brings it up, :meth:`stop` tears it down."""

    def __init__(self, root: Path | str, cpus: int | None = None, mem_mb: int | None = None,
                 partition: str = "debug", min_job_age: int = 900, system_conf: Path | None = SYSTEM_CONF,
                 gpus: int = 0) -> None:
        self.root = Path(root).resolve()
        self.cpus = cpus or os.cpu_count() or 1
        # leave headroom for the OS: slurmd refuses to register a node claiming more memory than it has
        self.mem_mb = mem_mb or max(512, int(_node_memory_mb() * 0.9))
        self.partition = partition
        # count-only GPU GRES (no device files): lets GPU jobs (--gpus=N) schedule on a machine without GPUs, so
        # the profile's GPU requests and the commands' CPU fallback are exercised as on a real GPU node
        self.gpus = gpus
        # MinJobAge keeps finished jobs visible to `squeue --states=all` (no slurmdbd here)
        self.min_job_age = min_job_age
        self.node = socket.gethostname().split(".")[0]
        self.conf = self.root / "slurm.conf"
        self.munge_socket = self.root / "munge" / "munge.socket"
        self.jobcomp_log = self.root / "log" / "jobcomp.log"
        self.started: list[str] = []
        # the default config path that srun inside jobs reads (None: do not link it)
        self.system_conf = system_conf

    # ------------------------------------------------------------------ paths
    def pidfile(self, daemon: str) -> Path:
        return self.root / "run" / f"{daemon}.pid"

    def logfile(self, daemon: str) -> Path:
        return self.root / "log" / f"{daemon}.log"

    def env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """Environment for SLURM clients (and everything they submit) to talk to this cluster."""
        env = dict(os.environ if base is None else base)
        env["SLURM_CONF"] = str(self.conf)
        return env

    # ------------------------------------------------------------------ config
    def write_config(self) -> None:
        for sub in ("munge", "run", "log", "state", "spool"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        os.chmod(self.root / "munge", 0o700)
        ctld_port, d_port = _free_port(), _free_port()
        (self.root / "plugstack.conf").write_text("")
        gres_node = f" Gres=gpu:{self.gpus}" if self.gpus else ""
        # slurmd reads gres.conf beside slurm.conf
        (self.root / "gres.conf").write_text(
            f"NodeName={self.node} Name=gpu File=/dev/null Count={self.gpus}\n" if self.gpus else "")
        self.conf.write_text(
            f"""{HEADER}
ClusterName=evoproxy-test
SlurmctldHost={self.node}(127.0.0.1)
SlurmctldPort={ctld_port}
SlurmdPort={d_port}
SlurmUser=root
AuthType=auth/munge
AuthInfo=socket={self.munge_socket}
CredType=cred/munge
StateSaveLocation={self.root}/state
SlurmdSpoolDir={self.root}/spool
SlurmctldPidFile={self.pidfile('slurmctld')}
SlurmdPidFile={self.pidfile('slurmd')}
SlurmctldLogFile={self.logfile('slurmctld')}
SlurmdLogFile={self.logfile('slurmd')}
PlugStackConfig={self.root}/plugstack.conf
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc={self.jobcomp_log}
MinJobAge={self.min_job_age}
GresTypes=gpu
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
KillWait=5
NodeName={self.node} NodeAddr=127.0.0.1 CPUs={self.cpus} RealMemory={self.mem_mb}{gres_node} State=UNKNOWN
PartitionName={self.partition} Nodes={self.node} Default=YES MaxTime=INFINITE State=UP
"""
        )

    def _link_system_conf(self) -> None:
        link = self.system_conf
        if link is None:
            return
        if link.is_symlink() and Path(os.readlink(link)) == self.conf:
            return
        if link.is_symlink() and _stale_link(link):
            link.unlink()  # left behind by a cluster of this module that was killed before stop()
        if link.exists() or link.is_symlink():
            raise SlurmError(f"{link} already exists (a system SLURM installation?); refusing to replace it")
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(self.conf)

    def _unlink_system_conf(self) -> None:
        link = self.system_conf
        if link is not None and link.is_symlink() and Path(os.readlink(link)) == self.conf:
            link.unlink()

    # ------------------------------------------------------------------ lifecycle
    def _run(self, args: list[str], daemon: str) -> None:
        proc = subprocess.run(args, capture_output=True, text=True, env=self.env(), timeout=60)
        if proc.returncode != 0:
            raise SlurmError(
                f"{daemon} failed to start (exit {proc.returncode}): {proc.stderr.strip() or proc.stdout.strip()}; "
                f"log: {self.logfile(daemon)}"
            )
        self.started.append(daemon)

    def _wait_pid(self, daemon: str, timeout: float = 20) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pf = self.pidfile(daemon)
            if pf.exists() and pf.read_text().strip():
                pid = int(pf.read_text().split()[0])
                if pid_alive(pid):
                    return pid
            time.sleep(0.2)
        log = self.logfile(daemon)
        tail = log.read_text()[-2000:] if log.exists() else "(no log)"
        raise SlurmError(f"{daemon} did not come up within {timeout:.0f}s; log {log}:\n{tail}")

    def start(self, timeout: float = 60) -> LocalSlurm:
        """Write the config, start munged, slurmctld and slurmd, and wait until the node is idle."""
        if os.geteuid() != 0:
            raise SlurmError("starting slurmd/slurmctld needs root")
        missing = missing_binaries()
        if missing:
            raise SlurmError(f"missing executables: {', '.join(missing)} (apt-get install slurm-wlm munge)")
        self.write_config()
        self._link_system_conf()
        key = self.root / "munge" / "munge.key"
        try:
            if not key.exists():
                subprocess.run(["mungekey", "--create", f"--keyfile={key}"], check=True, capture_output=True)
            os.chmod(key, 0o600)
            self._run(["munged", "--force", f"--socket={self.munge_socket}", f"--key-file={key}",
                       f"--pid-file={self.pidfile('munged')}", f"--log-file={self.logfile('munged')}",
                       f"--seed-file={self.root / 'munge' / 'munged.seed'}"], "munged")
            self._wait_pid("munged")
            # -i: ignore state left by an earlier cluster in the same folder
            self._run(["slurmctld", "-f", str(self.conf), "-i"], "slurmctld")
            self._wait_pid("slurmctld")
            self._run(["slurmd", "-f", str(self.conf), "-N", self.node], "slurmd")
            self._wait_pid("slurmd")
            self.wait_idle(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def node_state(self) -> str:
        proc = subprocess.run(["sinfo", "-h", "-N", "-o", "%T", "-n", self.node], capture_output=True,
                              text=True, env=self.env(), timeout=30)
        return proc.stdout.strip() if proc.returncode == 0 else f"error: {proc.stderr.strip()}"

    def wait_idle(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        state = ""
        while time.monotonic() < deadline:
            state = self.node_state()
            if state.rstrip("*") == "idle":
                return
            time.sleep(0.5)
        raise SlurmError(f"node {self.node} not idle after {timeout:.0f}s (state {state!r}); "
                         f"logs: {self.logfile('slurmctld')}, {self.logfile('slurmd')}")

    def stop(self, timeout: float = 20) -> None:
        """Stop the daemons this cluster started (by their pid files), newest first; idempotent."""
        for daemon in reversed(DAEMONS):
            pf = self.pidfile(daemon)
            if not pf.exists():
                continue
            try:
                pid = int(pf.read_text().split()[0])
            except (ValueError, IndexError):
                continue
            if pid_alive(pid):
                os.kill(pid, signal.SIGTERM)
                deadline = time.monotonic() + timeout
                while pid_alive(pid) and time.monotonic() < deadline:
                    time.sleep(0.1)
                if pid_alive(pid):
                    os.kill(pid, signal.SIGKILL)
            pf.unlink(missing_ok=True)
        self.started.clear()
        self._unlink_system_conf()

    def running(self) -> dict[str, bool]:
        """Whether each daemon's pid-file process is alive."""
        out = {}
        for daemon in DAEMONS:
            pf = self.pidfile(daemon)
            try:
                out[daemon] = pf.exists() and pid_alive(int(pf.read_text().split()[0]))
            except (ValueError, IndexError):
                out[daemon] = False
        return out

    def __enter__(self) -> LocalSlurm:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("action", choices=["start", "stop", "status"])
    ap.add_argument("root", type=Path, help="state folder (config, keys, logs, spool)")
    ap.add_argument("--cpus", type=int, default=None)
    ap.add_argument("--mem-mb", type=int, default=None)
    ap.add_argument("--gpus", type=int, default=0, help="count-only GPU GRES on the node (no devices needed)")
    args = ap.parse_args(argv)
    cluster = LocalSlurm(args.root, cpus=args.cpus, mem_mb=args.mem_mb, gpus=args.gpus)
    try:
        if args.action == "start":
            cluster.start()
            print(f"export SLURM_CONF={cluster.conf}")
        elif args.action == "stop":
            cluster.stop()
        else:
            print(" ".join(f"{d}={'up' if up else 'down'}" for d, up in cluster.running().items()))
            if cluster.conf.exists():
                print(f"node {cluster.node}: {cluster.node_state()}")
    except SlurmError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
