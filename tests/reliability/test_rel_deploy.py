"""The production example in deploy/ (issue 18): its settings are real, its proxy's upload
limit is the app's, and deploy/nginx.conf runs in Debian's nginx (`make proxy`) in front of two
real servers on one PostgreSQL database and one data folder: TLS, the redirect from plain
HTTP, keys passed through, photos larger than nginx's default limit accepted, bodies over the
app's limit refused by nginx, both servers used. Docker itself cannot run here (no engine), so
the compose file is checked as data, not started."""

from __future__ import annotations

import ipaddress
import os
import re
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import yaml
from PIL import Image

from counterscan.serve.settings import Settings
from tests.helpers.net import free_port
from tests.helpers.photos import detailed_photo, encode

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
NGINX = DEPLOY / "nginx.conf"
_UNITS = {"k": 1024, "m": 1024**2, "g": 1024**3}


def _compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def _servers(compose: dict[str, Any]) -> dict[str, Any]:
    return {n: s for n, s in compose["services"].items() if n.startswith("counterscan-")}


def _setting_names() -> set[str]:
    return {f"COUNTERSCAN_{name.upper()}" for name in Settings.model_fields}


def test_the_compose_file_uses_real_settings_and_shares_the_evidence() -> None:
    compose = _compose()
    servers = _servers(compose)
    assert len(servers) >= 2 and {"postgres", "proxy"} <= set(compose["services"])
    example = (DEPLOY / "counterscan.env.example").read_text()
    used = set(re.findall(r"^#?\s*(COUNTERSCAN_\w+)=", example, re.M))
    for server in servers.values():
        used |= set(server["environment"])
        assert server["env_file"] == "counterscan.env"
    assert used and used <= _setting_names(), used - _setting_names()
    for server in servers.values():
        env = server["environment"]
        assert env["COUNTERSCAN_DB"].startswith("postgresql://")
        assert "@postgres:5432/" in env["COUNTERSCAN_DB"]
        mounts = dict(v.split(":")[:2][::-1] for v in server["volumes"])
        assert mounts[env["COUNTERSCAN_DATA_DIR"]] == "evidence"  # one named volume, all servers
        assert env["COUNTERSCAN_HOST"] == "0.0.0.0" and "ports" not in server  # proxy only
    upstream = re.findall(r"^\s*server (counterscan-\d+):8000", NGINX.read_text(), re.M)
    assert sorted(upstream) == sorted(servers), "one nginx upstream line per server"


def _nginx_bytes(directive: str) -> int:
    value = re.search(rf"^\s*{directive}\s+(\d+)([kmg]?);", NGINX.read_text(), re.M | re.I)
    assert value, f"{directive} not in {NGINX}"
    return int(value[1]) * _UNITS.get(value[2].lower(), 1)


def test_the_proxy_refuses_exactly_what_the_app_refuses() -> None:
    env = next(iter(_servers(_compose()).values()))["environment"]
    app_limit = int(env.get("COUNTERSCAN_MAX_BODY_BYTES", Settings().max_body_bytes))
    assert _nginx_bytes("client_max_body_size") == app_limit


# ------------------------------------------------------------------ nginx in front of servers


def _nginx_binary() -> str:
    found = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if found is None:
        pytest.skip("nginx is not installed (`make proxy` installs it as root)")
    return found


def _certificate(folder: Path) -> Path:
    """A self-signed certificate for 127.0.0.1 (fullchain.pem, privkey.pem); returns the first."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    folder.mkdir()
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    (folder / "fullchain.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "privkey.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return folder / "fullchain.pem"


def _render(root: Path, upstreams: list[int], http: int, https: int) -> Path:
    """deploy/nginx.conf with the test's addresses, ports and folders (nothing else changed)."""
    text = NGINX.read_text()
    for n, port in enumerate(upstreams, start=1):
        text = text.replace(f"counterscan-{n}:8000", f"127.0.0.1:{port}")
    text = text.replace("listen 80;", f"listen 127.0.0.1:{http};")
    text = text.replace("listen 443 ssl;", f"listen 127.0.0.1:{https} ssl;")
    text = text.replace("/etc/nginx/tls/", f"{root / 'tls'}/").replace(
        "/tmp/nginx", str(root / "n")
    )
    if os.geteuid() == 0:  # nginx's workers would run as `nobody`: no way into pytest's folders
        text = "user root;\n" + text
    out = root / "nginx.conf"
    out.write_text(text)
    return out


@dataclass
class Proxy:
    url: str  # https://127.0.0.1:PORT
    http_port: int  # plain HTTP: redirects
    https_port: int
    servers: list[Any]
    tls: ssl.SSLContext  # trusts the test's self-signed certificate


@pytest.fixture
def proxy(start_server: Callable[..., Any], pg_url: str, tmp_path: Path) -> Iterator[Proxy]:
    """nginx running deploy/nginx.conf in front of two servers on one database and folder."""
    binary = _nginx_binary()
    shared = {"db": pg_url, "data_dir": tmp_path / "shared-store"}
    servers = [start_server(**shared), start_server(**shared)]
    root = tmp_path / "proxy"
    root.mkdir()
    ca = _certificate(root / "tls")
    http, https = free_port(), free_port()
    conf = _render(root, [s.spec.port for s in servers], http, https)
    check = subprocess.run(
        [binary, "-t", "-c", str(conf), "-p", str(root)], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stderr
    log = (root / "nginx.log").open("wb")
    process = subprocess.Popen(
        [binary, "-c", str(conf), "-p", str(root), "-g", "daemon off;"],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", https), timeout=1).close()
                break
            except OSError:
                assert process.poll() is None, (root / "nginx.log").read_text()
                time.sleep(0.1)
        tls = ssl.create_default_context(cafile=str(ca))
        yield Proxy(f"https://127.0.0.1:{https}", http, https, servers, tls)
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def test_nginx_serves_two_servers_with_tls_keys_and_limits(
    proxy: Proxy, rel_keys: dict[str, str]
) -> None:
    crawler = {"X-API-Key": rel_keys["crawler"]}
    inspector = {"Authorization": f"Bearer {rel_keys['inspector']}"}
    plain = httpx.get(f"http://127.0.0.1:{proxy.http_port}/readyz", timeout=30)
    assert plain.status_code == 301 and plain.headers["location"].startswith("https://")
    with httpx.Client(base_url=proxy.url, verify=proxy.tls, timeout=120) as client:
        # Larger than nginx's 1 MB default: the raised limit lets it through.
        noise = np.random.default_rng(0).integers(0, 256, (900, 1200, 3), dtype=np.uint8)
        big = encode(Image.fromarray(noise), "PNG")
        assert len(big) > 2 * 1024 * 1024
        photo = {"image": ("big.png", big, "image/png")}
        scored = client.post("/v1/score", headers=crawler, files=photo)
        assert scored.status_code == 200, scored.text
        item = scored.json()["id"]
        verdict = {"verdict": "genuine"}
        assert client.post(f"/v1/items/{item}/verdict", json=verdict).status_code == 401
        r = client.post(f"/v1/items/{item}/verdict", headers=inspector, json=verdict)
        assert r.status_code == 200 and r.json()["verdict"]["inspector"] == "ana"
        assert r.headers.get("strict-transport-security")
        image = client.get(f"/v1/items/{item}/image", headers=inspector)
        assert image.status_code == 200 and image.content == big
        for n in range(8):
            one = {"image": ("p.jpg", detailed_photo(400 + n), "image/jpeg")}
            assert client.post("/v1/score", headers=crawler, files=one).status_code == 200
    scored_by = [s.log_text().count('"POST /v1/score HTTP/1.1" 200') for s in proxy.servers]
    assert all(scored_by), f"nginx sent every score to one server: {scored_by}"
    assert _over_limit_status(proxy) == 413


def _over_limit_status(proxy: Proxy) -> int:
    """Announce a body one byte over the limit; nginx answers before any of it is sent."""
    limit = _nginx_bytes("client_max_body_size")
    raw = socket.create_connection(("127.0.0.1", proxy.https_port), timeout=30)
    with proxy.tls.wrap_socket(raw, server_hostname="127.0.0.1") as s:
        s.sendall(
            f"POST /v1/score/batch HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: "
            f"{limit + 1}\r\nContent-Type: application/json\r\n\r\n".encode()
        )
        head = s.recv(4096).decode(errors="replace")
    return int(head.split()[1])
