"""Settings: environment variables, validation that names the setting, keys never shown."""

from __future__ import annotations

import pytest

from counterscan.errors import CounterscanError
from counterscan.serve.settings import (
    Settings,
    is_loopback,
    load_settings,
    parse_api_keys,
)

SECRET = "s3cret-value-0123456789"


def test_environment_overrides_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setenv("COUNTERSCAN_MODEL", str(tmp_path / "m.onnx"))
    monkeypatch.setenv("COUNTERSCAN_BATCH_MAX_SIZE", "8")
    monkeypatch.setenv("COUNTERSCAN_BATCHING", "false")
    monkeypatch.setenv("COUNTERSCAN_API_KEYS", f"{SECRET}:crawler:bot")
    s = load_settings(port=9000)
    assert s.model == tmp_path / "m.onnx"
    assert (s.batch_max_size, s.batching, s.port) == (8, False, 9000)
    assert [(k.role, k.name) for k in s.api_keys] == [("crawler", "bot")]


def test_explicit_none_leaves_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COUNTERSCAN_PORT", "8123")
    assert load_settings(port=None).port == 8123


def test_default_database_lives_in_the_data_dir(tmp_path) -> None:
    s = Settings(data_dir=tmp_path)
    assert s.db_url == f"sqlite:///{tmp_path / 'counterscan.db'}"
    assert Settings(db="postgresql://u@h/db").db_url == "postgresql://u@h/db"


@pytest.mark.parametrize(
    ("env", "value", "named"),
    [
        ("COUNTERSCAN_PORT", "70000", "COUNTERSCAN_PORT"),
        ("COUNTERSCAN_BATCH_MAX_SIZE", "0", "COUNTERSCAN_BATCH_MAX_SIZE"),
        ("COUNTERSCAN_MAX_IMAGE_BYTES", "ten", "COUNTERSCAN_MAX_IMAGE_BYTES"),
        ("COUNTERSCAN_INTRA_OP_THREADS", "-1", "COUNTERSCAN_INTRA_OP_THREADS"),
        ("COUNTERSCAN_DB", "counterscan.db", "COUNTERSCAN_DB"),
        ("COUNTERSCAN_LOG_LEVEL", "loud", "COUNTERSCAN_LOG_LEVEL"),
    ],
)
def test_bad_values_fail_fast_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, env: str, value: str, named: str
) -> None:
    monkeypatch.setenv(env, value)
    with pytest.raises(CounterscanError) as e:
        load_settings()
    assert named in str(e.value)
    assert "\n" not in str(e.value)


def test_body_limit_must_cover_one_image() -> None:
    with pytest.raises(CounterscanError, match="max_body_bytes"):
        load_settings(max_body_bytes=2048, max_image_bytes=4096)


def test_api_keys_parse_and_validate() -> None:
    keys = parse_api_keys(f" {SECRET}:admin:root , other-key-0123456789:inspector:ana ,")
    assert [(k.role, k.name) for k in keys] == [("admin", "root"), ("inspector", "ana")]
    for bad, words in [
        (f"{SECRET}:boss:x", "role 'boss'"),
        (f"{SECRET}:admin", "key:role:name"),
        ("short:admin:x", "shorter than 16"),
        (f"{SECRET}:admin:a,{SECRET}:crawler:b", "same secret"),
    ]:
        with pytest.raises(ValueError, match=words):
            parse_api_keys(bad)


def test_secrets_never_appear_in_repr_or_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    s = Settings(api_keys=f"{SECRET}:admin:root")  # type: ignore[arg-type]
    assert SECRET not in repr(s)
    assert SECRET not in repr(s.api_keys)
    monkeypatch.setenv("COUNTERSCAN_API_KEYS", f"{SECRET}:nobody:x")
    with pytest.raises(CounterscanError) as e:
        load_settings()
    assert SECRET not in str(e.value)


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("localhost", True),
        ("::1", True),
        ("127.0.0.2", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.168.1.5", False),
        ("example.org", False),
    ],
)
def test_loopback_detection(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_evidence_key_must_be_a_file(tmp_path) -> None:
    with pytest.raises(CounterscanError, match=r"COUNTERSCAN_EVIDENCE_KEY: .*is not a file"):
        load_settings(evidence_key=tmp_path / "missing.key")
    key = tmp_path / "office.key"
    key.write_text("x")
    assert load_settings(evidence_key=key).evidence_key == key
    assert load_settings().evidence_key is None
