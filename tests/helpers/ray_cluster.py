"""A throwaway Ray cluster on this machine: `ray start --head` plus worker nodes, each a
separate `ray start` (own raylet, own object store), all on loopback, with free ports.

Teardown never runs `ray stop`: it stops every Ray process on the machine, other people's too.
Each `ray start` runs in a process group of its own, which its daemons (GCS, raylet, workers)
inherit; stopping the cluster signals those groups, then any process still naming this
cluster's temporary folder (a folder made for it, so only its own processes name it).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.helpers.net import free_port

# Loopback, but not 127.0.0.1: Ray replaces "127.0.0.1" and "localhost" by the machine's
# network address; the rest of 127/8 it takes as given, so nothing leaves loopback.
HOST = "127.0.0.2"
RAY = str(Path(sys.executable).with_name("ray"))
# No usage reports (no network here anyway), no prompts.
ENV = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}


class RayCluster:
    def __init__(self, object_store_bytes: int = 100_000_000) -> None:
        # Short: Ray's unix sockets live under it and their paths are limited to 107 bytes.
        self.root = Path(tempfile.mkdtemp(prefix="csray-", dir="/tmp"))
        self.object_store_bytes = object_store_bytes
        self.port = free_port()
        self.groups: list[int] = []
        self.nodes = 0

    @property
    def address(self) -> str:
        return f"{HOST}:{self.port}"

    def start_head(self, cpus: int = 1) -> None:
        self._start(
            "--head", f"--port={self.port}", f"--temp-dir={self.root}",
            "--include-dashboard=false", f"--dashboard-port={free_port()}", cpus=cpus,
        )  # fmt: skip

    def add_node(self, cpus: int = 1) -> None:
        self._start(f"--address={self.address}", cpus=cpus)

    def _start(self, *args: str, cpus: int) -> None:
        log = self.root / f"start-{self.nodes}.log"
        command = [
            RAY, "start", *args, f"--node-ip-address={HOST}", f"--num-cpus={cpus}",
            f"--object-store-memory={self.object_store_bytes}", "--disable-usage-stats",
            f"--dashboard-agent-listen-port={free_port()}", f"--metrics-export-port={free_port()}",
        ]  # fmt: skip
        with log.open("w") as out:
            proc = subprocess.Popen(
                command, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env=ENV, start_new_session=True,
            )  # fmt: skip
        self.groups.append(proc.pid)  # start_new_session: the group id is its pid
        try:
            rc = proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            rc = None
        if rc != 0:
            tail = log.read_text(errors="replace").strip().splitlines()[-15:]
            self.stop()
            raise RuntimeError(f"`ray start` failed ({rc}):\n" + "\n".join(tail))
        self.nodes += 1

    def own_pids(self) -> list[int]:
        """Live processes of this cluster: in one of its groups or naming its folder."""
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit() or int(entry.name) == os.getpid():
                continue
            try:
                state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
                cmdline = (entry / "cmdline").read_bytes().decode(errors="replace")
                pgid = os.getpgid(int(entry.name))
            except (OSError, IndexError):
                continue
            if state != "Z" and (pgid in self.groups or str(self.root) in cmdline):
                pids.append(int(entry.name))
        return pids

    def stop(self, grace_s: float = 3.0) -> None:
        """SIGTERM, then SIGKILL for what is left after `grace_s`; returns when none is left
        (or after 10 s more; the fixture then reports the survivors)."""
        self._signal(signal.SIGTERM)
        self._wait_gone(grace_s)
        if self.own_pids():
            self._signal(signal.SIGKILL)
            self._wait_gone(10.0)
        shutil.rmtree(self.root, ignore_errors=True)

    def _wait_gone(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while self.own_pids() and time.monotonic() < deadline:
            time.sleep(0.2)

    def _signal(self, sig: signal.Signals) -> None:
        for group in self.groups:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, sig)
        for pid in self.own_pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
