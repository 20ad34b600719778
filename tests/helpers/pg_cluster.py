"""A throwaway PostgreSQL cluster: initdb in a temporary folder, a free loopback port, trust
authentication, started and stopped with pg_ctl. Tests stop it under a running service without
touching the shared server other tests use.

initdb refuses to run as root, so as root the cluster runs as the `postgres` system user (made
by Debian's package), in a folder owned by it.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tests.helpers.net import free_port

ROLE = "counterscan"


@dataclass(frozen=True)
class Binaries:
    initdb: str
    pg_ctl: str


def find_binaries() -> Binaries | None:
    """initdb and pg_ctl from PATH, else from Debian's /usr/lib/postgresql/<newest>/bin."""
    found = shutil.which("initdb"), shutil.which("pg_ctl")
    if all(found):
        return Binaries(*found)  # type: ignore[arg-type]
    for folder in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        initdb, pg_ctl = Path(folder, "initdb"), Path(folder, "pg_ctl")
        if initdb.is_file() and pg_ctl.is_file():
            return Binaries(str(initdb), str(pg_ctl))
    return None


class Cluster:
    def __init__(self, binaries: Binaries) -> None:
        self.binaries = binaries
        self.root = Path(tempfile.mkdtemp(prefix="counterscan-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self.port = free_port()
        self._user = self._run_as()

    @property
    def url(self) -> str:
        return f"postgresql://{ROLE}@127.0.0.1:{self.port}/postgres"

    def create(self) -> None:
        if self._user:
            entry = pwd.getpwnam(self._user)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        self._run(
            self.binaries.initdb, "-D", str(self.data), "-U", ROLE, "--auth=trust",
            "--no-sync", "-E", "UTF8",
        )  # fmt: skip

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root}"
        self._run(
            self.binaries.pg_ctl, "-D", str(self.data), "-l", str(self.log), "-o", options,
            "-w", "-t", "60", "start",
        )  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        self._run(self.binaries.pg_ctl, "-D", str(self.data), "-m", mode, "-w", "stop")

    def running(self) -> bool:
        status = self._run(self.binaries.pg_ctl, "-D", str(self.data), "status", check=False)
        return status.returncode == 0

    def destroy(self) -> None:
        try:
            if self.data.is_dir() and self.running():
                self.stop("immediate")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def _run_as(self) -> str | None:
        if os.geteuid() != 0:
            return None
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return None  # initdb will say it cannot run as root; the test then fails loudly
        return "postgres"

    def _run(self, *command: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        full = ["runuser", "-u", self._user, "--", *command] if self._user else list(command)
        done = subprocess.run(full, capture_output=True, text=True, timeout=120)
        if check and done.returncode != 0:
            raise RuntimeError(f"{' '.join(command[:1])} failed: {done.stderr or done.stdout}")
        return done
