"""Evidence packages: one ZIP per case that another authority or a court can check by itself.

    photos/<item_id>.<ext>        every original photo, byte for byte (never re-encoded)
    heatmaps/<item_id>.png        where the model saw evidence (separate files; absent without
                                  a model, and the manifest says so)
    case.json                     the case with its sellers and status history, and per
                                  item: SHA-256, when and where collected (URL, source, its
                                  listings and their sellers), model version, score,
                                  priority and reasons, verdicts, similar-case matches
    summary.html                  printable summary (Vietnamese by default)
    manifest.json                 every other file with its SHA-256 and size
    manifest.sig                  Ed25519 signature of manifest.json's exact bytes

`verify_package` checks the signature first, then every file against the manifest, and names
every changed, added or removed file. Keys: `keygen` writes PREFIX.key (PKCS#8 PEM, mode 600)
and PREFIX.pub (SubjectPublicKeyInfo PEM).
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from counterscan.errors import CounterscanError
from counterscan.formats import suffix_of
from counterscan.serve.cases.evidence_html import summary_html
from counterscan.serve.inference.batching import run_batch
from counterscan.serve.inference.heatmap import DISPLAY_SIZE, overlay_png
from counterscan.serve.inference.model import Scorer
from counterscan.serve.pipeline.prepare import Limits, check_size, prepare
from counterscan.serve.storage import Store
from counterscan.serve.storage.evidence import image_format
from counterscan.serve.storage.records import iso_utc

MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
FORMAT = "counterscan-evidence/1"

Heatmap = Callable[[bytes], bytes]  # original bytes -> PNG


def heatmap_maker(scorer: Scorer, limits: Limits) -> Heatmap:
    """Stored bytes -> the heat-map PNG the service draws (same decode, model and overlay), for
    `counterscan evidence export --model`, which has no running service."""

    def draw(data: bytes) -> bytes:
        check_size(len(data), limits)
        prepared = prepare(data, scorer.input_size, limits, photo_side=DISPLAY_SIZE)
        (scored,) = run_batch(scorer, [prepared.model_input])
        assert prepared.photo is not None
        return overlay_png(prepared.photo, scored.cam)

    return draw


Similar = Callable[[Any], list[dict[str, Any]]]  # ItemRecord -> matches (API shape)


# --- keys ---


def keygen(prefix: Path) -> tuple[Path, Path]:
    """Write PREFIX.key (private, mode 600, created so: never readable by others) and
    PREFIX.pub. Refuses to overwrite."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key_path, pub_path = Path(f"{prefix}.key"), Path(f"{prefix}.pub")
    for path in (key_path, pub_path):
        if path.exists():
            raise CounterscanError(f"{path} already exists; choose another prefix")
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    try:
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(private)
        os.chmod(key_path, 0o600)  # whatever the umask
        pub_path.write_bytes(public)
    except OSError as e:
        raise CounterscanError(f"cannot write the key files: {e.strerror or e}") from None
    return key_path, pub_path


def load_private_key(path: Path) -> Any:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    try:
        key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
    except OSError as e:
        raise CounterscanError(f"cannot read signing key {path}: {e.strerror or e}") from None
    except (ValueError, TypeError):
        raise CounterscanError(f"{path} is not an unencrypted PEM private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise CounterscanError(f"{path} is not an Ed25519 key")
    return key


def load_public_key(path: Path) -> Any:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        key = serialization.load_pem_public_key(Path(path).read_bytes())
    except OSError as e:
        raise CounterscanError(f"cannot read public key {path}: {e.strerror or e}") from None
    except ValueError:
        raise CounterscanError(f"{path} is not a PEM public key") from None
    if not isinstance(key, Ed25519PublicKey):
        raise CounterscanError(f"{path} is not an Ed25519 public key")
    return key


# --- building ---


class _Writer:
    """Files go into the ZIP as they come (one photo in memory at a time); their hashes and
    sizes are kept for the manifest."""

    def __init__(self, zf: zipfile.ZipFile) -> None:
        self.zf = zf
        self.listed: list[dict[str, Any]] = []
        self.header: dict[str, Any] = {}

    def add(self, name: str, data: bytes) -> None:
        # Photos and PNGs are compressed already; store them as they are.
        kind = zipfile.ZIP_STORED if name.startswith(("photos/", "heatmaps/")) else None
        self.zf.writestr(name, data, compress_type=kind or zipfile.ZIP_DEFLATED)
        self.listed.append(
            {"path": name, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)}
        )


def build_package(
    store: Store,
    case_id: int,
    key: Any,
    *,
    actor: str,
    lang: str = "vi",
    heatmap: Heatmap | None = None,
    similar: Similar | None = None,
    model_note: str = "",
    out: BinaryIO,
) -> None:
    """Write the signed ZIP of a case to `out`. The download is recorded in the case history
    first (an export that fails afterwards still shows who tried), and the package's history
    includes it."""
    if lang not in ("vi", "en"):
        raise CounterscanError(f"language must be vi or en, not {lang!r}")
    store.cases.log_event(case_id, "evidence_download", actor=actor)
    case = store.cases.get(case_id)
    with zipfile.ZipFile(out, "w") as zf:
        pkg = _Writer(zf)
        _fill(pkg, store, case, actor, lang, heatmap, similar, model_note)
        manifest_bytes = _json({**pkg.header, "files": pkg.listed})
        zf.writestr(MANIFEST, manifest_bytes, compress_type=zipfile.ZIP_DEFLATED)
        zf.writestr(SIGNATURE, key.sign(manifest_bytes).hex() + "\n")


def _fill(
    pkg: _Writer,
    store: Store,
    case: Any,
    actor: str,
    lang: str,
    heatmap: Heatmap | None,
    similar: Similar | None,
    model_note: str,
) -> None:
    items_out = []
    links, sellers = store.cases.links(case.item_ids)
    for item_id in case.item_ids:
        item = store.get_item(item_id)
        if item is None:
            continue
        path = store.image_path(item)
        entry: dict[str, Any] = _item_entry(item, links.get(item.id, []))
        if path.is_file():
            data = path.read_bytes()
            if hashlib.sha256(data).hexdigest() != item.sha256:
                raise CounterscanError(
                    f"the stored photo of item {item.id} does not match its hash"
                )
            name = f"photos/{item.id}{suffix_of(image_format(path))}"
            pkg.add(name, data)
            entry["photo"] = name
            if heatmap is not None:
                try:
                    pkg.add(f"heatmaps/{item.id}.png", heatmap(data))
                    entry["heatmap"] = f"heatmaps/{item.id}.png"
                except Exception as e:  # one undecodable photo must not stop the package
                    entry["heatmap_error"] = str(e).splitlines()[0][:200]
        else:
            entry["photo"] = None
            entry["photo_missing"] = "the stored original is gone from the data folder"
        entry["similar_matches"] = similar(item) if similar is not None else []
        items_out.append(entry)
    made_at = iso_utc(datetime.now(UTC))
    heatmaps = (
        "included" if heatmap is not None else f"not included: {model_note or 'no model given'}"
    )
    similar_note = "included" if similar is not None else "not searched"
    record = {
        "format": FORMAT,
        "made_at": made_at,
        "made_by": actor,
        "heatmaps": heatmaps,
        "similar_matches": similar_note,
        "case": {**case.to_api(), "sellers": sellers},
        "items": items_out,
    }
    pkg.add("case.json", _json(record))
    pkg.add("summary.html", summary_html(record, lang).encode("utf-8"))
    pkg.header = {
        "format": FORMAT,
        "case_id": case.id,
        "made_at": made_at,
        "made_by": actor,
        "heatmaps": heatmaps,
    }


def similar_finder(similar: Any, store: Store) -> Similar | None:
    """ItemRecord -> its similar-case matches (API shape), from a loaded SimilarCases."""
    if similar is None:
        return None
    from counterscan.serve.similar.service import photo_of

    return lambda item: [match.to_api() for match in similar.match(photo_of(item, store))]


def load_similar(store: Store) -> Any:
    """The confirmed cases of this database, loaded for matching (as the server does)."""
    from counterscan.serve.similar.service import SimilarCases

    cases = SimilarCases()
    cases.load(store)
    return cases


def _item_entry(item: Any, listings: list[dict[str, Any]]) -> dict[str, Any]:
    """What the package says of one photo; `listings`: the listings it belongs to with their
    sellers (storage/case_rows.listing_links). `seller` is the first listing's seller."""
    api = item.to_api()
    sellers = [x["seller"] for x in listings if x["seller"] is not None]
    return {
        "item_id": item.id,
        "sha256": item.sha256,
        "collected_at": api["created_at"],
        "url": item.url,
        "source": item.source,
        "listing_id": item.listing_id,
        "seller": sellers[0] if sellers else None,
        "listings": listings,
        "sightings": api.get("sightings", []),
        "model_version": item.model_version,
        "score": item.score,
        "priority": item.priority,
        "priority_reason": item.priority_reason,
        "width": item.width,
        "height": item.height,
        "verdicts": api.get("verdicts", []),
    }


def _json(value: Any) -> bytes:
    return (json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode()


# --- verifying ---


@dataclass
class Verification:
    signature_ok: bool
    changed: list[str]
    added: list[str]
    removed: list[str]
    files: int

    @property
    def ok(self) -> bool:
        return self.signature_ok and not (self.changed or self.added or self.removed)

    def problems(self) -> list[str]:
        out = [] if self.signature_ok else ["the signature does not verify with this public key"]
        out += [f"changed: {n}" for n in self.changed]
        out += [f"added: {n}" for n in self.added]
        out += [f"removed: {n}" for n in self.removed]
        return out


def verify_package(package: Path, public_key: Path) -> Verification:
    from cryptography.exceptions import InvalidSignature

    key = load_public_key(public_key)
    try:
        zf = zipfile.ZipFile(package)
    except (OSError, zipfile.BadZipFile) as e:
        raise CounterscanError(f"{package} is not a readable ZIP: {e}") from None
    with zf:
        names = [n for n in zf.namelist() if not n.endswith("/")]
        if MANIFEST not in names or SIGNATURE not in names:
            raise CounterscanError(f"{package} has no {MANIFEST} and {SIGNATURE}")
        manifest_bytes = zf.read(MANIFEST)
        try:
            key.verify(bytes.fromhex(zf.read(SIGNATURE).decode().strip()), manifest_bytes)
            signature_ok = True
        except (InvalidSignature, ValueError, UnicodeDecodeError):
            signature_ok = False
        try:
            listed = {f["path"]: f["sha256"] for f in json.loads(manifest_bytes)["files"]}
        except (ValueError, KeyError, TypeError):
            raise CounterscanError(f"{MANIFEST} in {package} is not a manifest") from None
        present = [n for n in names if n not in (MANIFEST, SIGNATURE)]
        changed = [
            n
            for n in present
            if n in listed and hashlib.sha256(zf.read(n)).hexdigest() != listed[n]
        ]
        added = [n for n in dict.fromkeys(present) if n not in listed]
        # A second entry under a listed name (readers disagree on which copy they show).
        added += [f"{n} (second copy)" for n, c in Counter(names).items() if c > 1]
        removed = [n for n in listed if n not in present]
    return Verification(signature_ok, changed, added, sorted(set(removed)), len(listed))
