"""A real `counterscan serve` process for bench_service.py: start, watch (memory, CPU time,
/metrics), profile with py-spy, stop."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def as_flags(options: dict[str, object]) -> list[str]:
    """{"port": 80} -> ["--port", "80"]"""
    return [item for key, value in options.items() for item in (f"--{key}", str(value))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(
        self, model: Path, root: Path, threads: int, db: str | None = None, **settings: str
    ) -> None:
        """`settings`: COUNTERSCAN_<NAME> environment values, e.g. batching="false"; `db`: a
        database URL (default: a fresh SQLite file under `root`)."""
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("COUNTERSCAN_")}
        env.update({f"COUNTERSCAN_{k.upper()}": v for k, v in settings.items()})
        options = {
            "model": model,
            "db": db or f"sqlite:///{root / 'bench.db'}",
            "data-dir": root / "store",
            "port": self.port,
            "threads": threads,
            "log-level": "warning",
        }
        command = [sys.executable, "-m", "counterscan", "serve", *as_flags(options)]
        self.proc = subprocess.Popen(command, env=env)
        self._wait_ready()

    def _wait_ready(self, timeout: float = 180.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited with code {self.proc.returncode}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=5).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.25)
        self.stop()
        raise RuntimeError("the server did not get ready")

    def rss_mb(self) -> float:
        return _status_kb(self.proc.pid, "VmRSS") / 1024

    def peak_rss_mb(self) -> float:
        """VmHWM: the most resident memory the process has had since it started."""
        return _status_kb(self.proc.pid, "VmHWM") / 1024

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime + stime

    def inference(self) -> dict[str, float]:
        """Totals of the model-call metrics: calls, images scored, seconds in the model."""
        text = httpx.get(f"{self.url}/metrics", timeout=30).text
        wanted = {
            "counterscan_inference_batch_size_count": "calls",
            "counterscan_inference_batch_size_sum": "images",
            "counterscan_inference_duration_seconds_sum": "model_s",
        }
        out = dict.fromkeys(wanted.values(), 0.0)
        for line in text.splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[0] in wanted:
                out[wanted[parts[0]]] = float(parts[1])
        return out

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _status_kb(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{key}:"):
            return int(line.split()[1])
    return 0


def start_profiler(pid: int, seconds: float, out: Path) -> subprocess.Popen | None:
    """py-spy sampling the server (all threads, native frames off) into collapsed stacks."""
    exe = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(exe).exists():
        print("py-spy is not installed: no profile (pip install py-spy)")
        return None
    options = {
        "pid": pid,
        "duration": max(1, round(seconds)),
        "rate": 200,
        "format": "raw",
        "output": out,
    }
    command = [exe, "record", *as_flags(options), "--nonblocking"]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def summarize_profile(path: Path, top: int = 15) -> list[dict[str, object]]:
    """Collapsed stacks -> the functions where the samples were (leaf frame, 'self' time) and
    the share of samples each counts for. py-spy leaves out threads it sees idle; a thread
    blocked in a system call it does not recognise as waiting (fsync) still counts."""
    if not path.is_file():
        return []
    leaves: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = stack.split(";")
        leaves[_short(frames[-1])] += int(count)
        total += int(count)
    return [
        {"function": name, "share_pct": round(100 * n / total, 1)}
        for name, n in leaves.most_common(top)
    ]


def _short(frame: str) -> str:
    """'fn (/long/path/to/pkg/file.py:12)' -> 'fn (pkg/file.py:12)'."""
    name, _, where = frame.partition(" (")
    parts = where.rstrip(")").split("/")
    return f"{name} ({'/'.join(parts[-2:])})" if where else name
