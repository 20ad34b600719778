"""A real `counterscan serve` process for the reliability tests.

The command is the one users run, on a free loopback port, with its own database and data
folder, its log captured to a file (to search it for secrets), and its memory read from
/proc/<pid>/status (VmRSS now, VmHWM the peak since start). It can be killed with SIGKILL and
started again on the same database, or started inside a wrapper (e.g. `unshare` for a small
tmpfs data disk).

Used by the reliability, console and server-process tests.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from tests.helpers.net import free_port

START_TIMEOUT_S = 90.0
STOP_TIMEOUT_S = 30.0


@dataclass
class ServerSpec:
    model: Path
    db: str
    data_dir: Path
    log_path: Path
    api_keys: str = ""  # COUNTERSCAN_API_KEYS; empty = no keys (loopback, local admin)
    env: dict[str, str] = field(default_factory=dict)  # more COUNTERSCAN_* settings
    wrapper: list[str] = field(default_factory=list)  # e.g. ["unshare", "-rm", "sh", "-c", ...]
    port: int = field(default_factory=free_port)
    log_level: str = "info"
    args: list[str] = field(default_factory=list)  # more `counterscan serve` options

    def command(self) -> list[str]:
        serve = [
            sys.executable, "-m", "counterscan", "serve", "--model", str(self.model),
            "--db", self.db, "--data-dir", str(self.data_dir), "--port", str(self.port),
            "--log-level", self.log_level, *self.args,
        ]  # fmt: skip
        return [*self.wrapper, *serve] if self.wrapper else serve

    def environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("COUNTERSCAN_")}
        # Two cores in CI: one ORT thread, two decoders, as the other service tests do.
        env |= {"COUNTERSCAN_INTRA_OP_THREADS": "1", "COUNTERSCAN_DECODE_THREADS": "2"}
        if self.api_keys:
            env["COUNTERSCAN_API_KEYS"] = self.api_keys
        return env | self.env


class LiveServer:
    def __init__(self, spec: ServerSpec) -> None:
        self.spec = spec
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.spec.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self, timeout: float = START_TIMEOUT_S) -> LiveServer:
        """Start the process (appending to the same log) and wait until /readyz says ready."""
        assert self.process is None or self.process.poll() is not None, "already running"
        with self.spec.log_path.open("ab") as log:
            log.write(f"\n----- start {self.starts + 1}\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                self.spec.command(),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=self.spec.environment(),
            )
        self.starts += 1
        with httpx.Client(base_url=self.url, timeout=5.0) as http:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise AssertionError(
                        f"server exited with {self.process.returncode}:\n{self.log_text()[-3000:]}"
                    )
                try:
                    if http.get("/readyz").status_code == 200:
                        return self
                except httpx.TransportError:
                    pass
                time.sleep(0.1)
        raise AssertionError(f"server not ready after {timeout:.0f} s:\n{self.log_text()[-3000:]}")

    def client(self, key: str | None = None, timeout: float = 60.0) -> httpx.Client:
        headers = {"X-API-Key": key} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=timeout)

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def memory_mb(self) -> dict[str, float]:
        """{"rss": resident now, "peak": highest resident since start} in MiB."""
        fields: dict[str, float] = {}
        with open(f"/proc/{self.pid}/status") as status:
            for line in status:
                name, _, value = line.partition(":")
                if name in ("VmRSS", "VmHWM"):
                    fields["rss" if name == "VmRSS" else "peak"] = int(value.split()[0]) / 1024
        return fields

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a crash or an OOM kill."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=STOP_TIMEOUT_S)

    def stop(self) -> int | None:
        """SIGTERM (graceful), SIGKILL if it does not end in time. Returns the exit code."""
        if self.process is None or self.process.poll() is not None:
            return None if self.process is None else self.process.returncode
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()

    def log_text(self) -> str:
        return self.spec.log_path.read_text(errors="replace")
