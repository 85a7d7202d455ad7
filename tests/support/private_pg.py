"""A throwaway PostgreSQL cluster of the test's own, so a test may stop and restart it without
touching the shared server that other tests and engineers use.

``initdb`` into a temporary directory and ``pg_ctl`` on a free port, listening on loopback and
a socket in that directory only. PostgreSQL refuses to run as root, so when the tests run as
root the cluster runs as the ``postgres`` OS user (``runuser``).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.serving import free_port

PG_CTL_WAIT = "30"  # seconds pg_ctl waits for start and stop


def _bindir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        pytest.skip("initdb is not installed (/usr/lib/postgresql/*/bin): no private cluster")
    return Path(found[-1]).parent


def _as_cluster_owner(argv: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return argv
    return ["runuser", "-u", "postgres", "--", *argv]


@dataclass
class PrivateCluster:
    bindir: Path
    root: Path
    port: int

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def pg_ctl(self, *args: str) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        argv = [str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "log")]
        argv += ["-o", options, "-w", "-t", PG_CTL_WAIT, *args]
        subprocess.run(_as_cluster_owner(argv), check=True, capture_output=True, timeout=60)

    def stop(self) -> None:
        """Stop now, as a crash or a failover would: open sessions are cut off."""
        self.pg_ctl("-m", "fast", "stop")

    def start(self) -> None:
        self.pg_ctl("start")


@contextmanager
def private_postgres() -> Iterator[PrivateCluster]:
    """A new PostgreSQL cluster (trust auth, user ``postgres``), deleted on exit."""
    bindir = _bindir()
    # Not pytest's tmp_path: it is private to root, and the cluster runs as postgres.
    root = Path(tempfile.mkdtemp(prefix="ally-pg-"))
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        os.chown(root, owner.pw_uid, owner.pw_gid)
    cluster = PrivateCluster(bindir, root, free_port())
    try:
        initdb = [str(bindir / "initdb"), "-D", str(cluster.data), "-A", "trust", "-U", "postgres"]
        subprocess.run(
            _as_cluster_owner([*initdb, "--no-sync"]), check=True, capture_output=True, timeout=120
        )
        cluster.start()
        yield cluster
    finally:
        if (cluster.data / "postmaster.pid").exists():
            cluster.pg_ctl("-m", "immediate", "stop")
        shutil.rmtree(root, ignore_errors=True)
