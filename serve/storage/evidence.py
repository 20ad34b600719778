"""Original image bytes kept as evidence, content-addressed on disk, plus JPEG thumbnails.

    data_dir/evidence/ab/cd/<sha256>      the bytes exactly as received
    data_dir/thumbs/ab/cd/<sha256>.jpg     at most THUMB_SIDE pixels on the long side
    data_dir/display/ab/cd/<sha256>.jpg    full-size JPEG of originals browsers cannot show
                                           (HEIC, TIFF), made on first request

Paths are built only from a validated lowercase hex SHA-256, never from anything a client sent.
Files are written to a temporary name, then renamed, so a crash leaves either the whole file or
none; the same bytes submitted twice are stored once. Originals are evidence: fsynced (file and
folder) before they are renamed into place and before any row points at them, so they survive a
power cut; `put_many` writes a whole request's originals and then fsyncs them in one pass (one
journal commit instead of one per file). Thumbnails and display copies are made again from the
original whenever they are missing, so they are not fsynced (bench/README.md, 2026-11-30).
Several servers may share the folder (one path on a shared filesystem): temporary names are
unique per host and process, and two servers writing the same bytes at once both rename a
complete file to the same name.
"""

from __future__ import annotations

import io
import logging
import os
import re
import secrets
import socket
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

from counterscan.formats import BROWSER_FORMATS
from counterscan.hashing import sha256_bytes
from counterscan.images import ImageDecodeError, decode_image
from counterscan.serve.storage.db import StorageUnavailable

SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
THUMB_SIDE = 320  # px, long side: sharp on a high-DPI queue card, ~15-30 KB
THUMB_QUALITY = 82
DISPLAY_QUALITY = 92

log = logging.getLogger(__name__)
_HOST = re.sub(r"[^A-Za-z0-9.-]", "_", socket.gethostname())[:64]


class EvidenceUnwritable(StorageUnavailable):
    """The data folder refuses a file (disk full, read-only, over quota): HTTP 503, and the
    service keeps running; scoring works again once there is room."""


def check_sha256(sha256: str) -> str:
    if not isinstance(sha256, str) or not SHA256_RE.fullmatch(sha256):
        raise ValueError(f"not a lowercase hex SHA-256: {sha256!r}")
    return sha256


class EvidenceFiles:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir)
        self.evidence_dir = self.data_dir / "evidence"
        self.thumbs_dir = self.data_dir / "thumbs"
        self.display_dir = self.data_dir / "display"

    def create_dirs(self) -> None:
        self.evidence_dir.mkdir(parents=True, exist_ok=True)
        self.thumbs_dir.mkdir(parents=True, exist_ok=True)

    def image_path(self, sha256: str) -> Path:
        h = check_sha256(sha256)
        return self.evidence_dir / h[:2] / h[2:4] / h

    def thumbnail_path(self, sha256: str) -> Path:
        h = check_sha256(sha256)
        return self.thumbs_dir / h[:2] / h[2:4] / f"{h}.jpg"

    def display_path(self, sha256: str) -> Path:
        h = check_sha256(sha256)
        return self.display_dir / h[:2] / h[2:4] / f"{h}.jpg"

    def put(self, data: bytes, sha256: str) -> Path:
        """Store the bytes under their hash (checked); a no-op when they are already there."""
        (path,) = self.put_many([(data, sha256)])
        return path

    def put_many(self, images: list[tuple[bytes, str]]) -> list[Path]:
        """`put` for several images, durable together: all written, then fsynced in one pass,
        renamed, and their folders fsynced, so the cost of a power-safe write is paid once per
        request instead of once per image. Returns the paths, in order."""
        paths, todo = [], []
        for data, sha256 in images:
            if sha256_bytes(data) != check_sha256(sha256):
                raise ValueError("image bytes do not match the given sha256")
            path = self.image_path(sha256)
            paths.append(path)
            if not (path.is_file() and path.stat().st_size == len(data)):
                todo.append((path, data))
        for start in range(0, len(todo), _FILES_AT_ONCE):
            _write_atomic_many(todo[start : start + _FILES_AT_ONCE], durable=True)
        return paths

    def put_thumbnail(self, sha256: str, jpeg: bytes) -> Path:
        """Keep a thumbnail made by the caller (`thumbnail_from_photo`); not fsynced."""
        path = self.thumbnail_path(sha256)
        _write_atomic(path, jpeg, durable=False)
        return path

    def read(self, sha256: str) -> bytes:
        return self.image_path(sha256).read_bytes()

    def make_thumbnail(
        self, sha256: str, data: bytes | None = None, *, photo: np.ndarray | None = None
    ) -> Path | None:
        """Write the thumbnail from `photo` (decoded pixels) if it is big enough, else from
        `data`, else from the stored evidence. None if the image cannot be decoded."""
        path = self.thumbnail_path(sha256)
        if photo is not None and max(photo.shape[:2]) >= THUMB_SIDE:
            _write_atomic(path, thumbnail_from_photo(photo), durable=False)
            return path
        if data is None:
            data = self.read(sha256)
        try:
            jpeg = thumbnail_jpeg(data)
        except ImageDecodeError as e:
            log.warning("no thumbnail for %s: %s", sha256, e)
            return None
        _write_atomic(path, jpeg, durable=False)
        return path

    def ensure_thumbnail(self, sha256: str) -> Path | None:
        """The thumbnail path, made now from the evidence if it is missing (None: impossible)."""
        path = self.thumbnail_path(sha256)
        if path.is_file():
            return path
        if not self.image_path(sha256).is_file():
            return None
        return self.make_thumbnail(sha256)

    def ensure_display(self, sha256: str) -> Path | None:
        """A file a browser can show: the original when its format allows, else a full-size
        JPEG copy (EXIF orientation applied), made once. None if the evidence is gone or
        cannot be decoded."""
        original = self.image_path(sha256)
        if not original.is_file():
            return None
        if image_format(original) in BROWSER_FORMATS:
            return original
        path = self.display_path(sha256)
        if path.is_file():
            return path
        try:
            decoded = decode_image(original.read_bytes())
        except ImageDecodeError as e:
            log.warning("no display copy for %s: %s", sha256, e)
            return None
        buf = io.BytesIO()
        Image.fromarray(decoded.rgb).save(buf, "JPEG", quality=DISPLAY_QUALITY)
        _write_atomic(path, buf.getvalue(), durable=False)
        return path


def image_format(path: Path) -> str | None:
    """Pillow's format name from the file's header (reads only the first bytes)."""
    try:
        with Image.open(path) as img:
            return img.format
    except Exception:
        return None


def thumbnail_jpeg(data: bytes) -> bytes:
    """Image bytes -> JPEG bytes, long side <= THUMB_SIDE, EXIF orientation applied."""
    # `target` lets big JPEGs decode at 1/2..1/8 scale: ~10x faster on a 12 MP photo.
    decoded = decode_image(data, target=THUMB_SIDE)
    return _encode_thumbnail(Image.fromarray(decoded.rgb))


def thumbnail_from_photo(photo: np.ndarray | Image.Image) -> bytes:
    """The thumbnail JPEG of an already decoded photo, (H, W, 3) uint8 or an RGB image, with a
    long side of at least THUMB_SIDE or the whole picture (the scoring path makes it while it
    decodes)."""
    return _encode_thumbnail(photo if isinstance(photo, Image.Image) else Image.fromarray(photo))


def _encode_thumbnail(img: Image.Image) -> bytes:
    img = img.copy()
    # reducing_gap=1.0: shrink by the largest whole factor with a box filter first, then
    # LANCZOS for the rest. A 640x480 listing photo took 3.6 ms of CPU with LANCZOS alone
    # (more than decoding it), 0.6 ms this way (bench/bench_service.py --profile).
    img.thumbnail((THUMB_SIDE, THUMB_SIDE), Image.Resampling.LANCZOS, reducing_gap=1.0)
    buf = io.BytesIO()
    # No optimize=True: Huffman optimisation made files 10% smaller for 70% more encoding time
    # (0.44 vs 0.26 ms for 320x240), paid by every scored image.
    img.save(buf, "JPEG", quality=THUMB_QUALITY)
    return buf.getvalue()


# Files written and fsynced together at most (each holds an open descriptor until its fsync),
# and the threads that fsync them (a thread waiting in fsync uses no CPU).
_FILES_AT_ONCE = 64
_SYNCERS = ThreadPoolExecutor(16, thread_name_prefix="fsync")


def _write_atomic(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Write, (fsync,) rename into place, (fsync the folder): all or nothing, and with
    `durable` even on power loss. Raises EvidenceUnwritable when the folder refuses (ENOSPC,
    EROFS, EDQUOT, EIO, ...)."""
    _write_atomic_many([(path, data)], durable=durable)


def _write_atomic_many(files: list[tuple[Path, bytes]], *, durable: bool) -> None:
    try:
        _write_and_rename(files, durable)
    except OSError as e:
        reason = e.strerror or str(e)
        raise EvidenceUnwritable(f"cannot store files in the data folder: {reason}") from e


def _write_and_rename(files: list[tuple[Path, bytes]], durable: bool) -> None:
    """Each file to a temporary name first; with `durable` all of them are fsynced before any
    is renamed, then every folder whose entries changed is fsynced once."""
    changed: set[Path] = set()  # folders with a new entry: the file's, and new folders' parents
    written: list[tuple[Path, Path, int]] = []  # (tmp, final, open descriptor)
    try:
        for path, data in files:
            changed |= _make_parents(path.parent)
            # Several servers may share the folder (deploy/README.md): the temporary name says
            # which host and process writes it, and O_EXCL refuses to open another writer's file
            # (a FileExistsError leaves that file alone: it is not in `written`).
            tmp = path.with_name(f".{path.name}.{_HOST}.{os.getpid()}.{secrets.token_hex(8)}.tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            written.append((tmp, path, fd))
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        if durable:
            _fsync_all([fd for _, _, fd in written])
        for tmp, path, _ in written:
            os.replace(tmp, path)
            changed.add(path.parent)
    except BaseException:
        for tmp, _, _ in written:
            tmp.unlink(missing_ok=True)
        raise
    finally:
        for _, _, fd in written:
            os.close(fd)
    if durable:
        dir_fds = []
        try:
            for folder in sorted(changed):
                dir_fds.append(os.open(folder, os.O_RDONLY))
            _fsync_all(dir_fds)
        finally:
            for fd in dir_fds:
                os.close(fd)


def _fsync_all(fds: list[int]) -> None:
    """fsync every descriptor, at the same time: the filesystem's journal commits concurrent
    fsyncs together, one after another each waits for its own commit (on a busy disk 0.6
    against 7 ms per file; bench/README.md, 2026-11-30)."""
    if len(fds) == 1:
        os.fsync(fds[0])
    elif fds:
        for future in [_SYNCERS.submit(os.fsync, fd) for fd in fds]:
            future.result()  # raises the first OSError


def _make_parents(folder: Path) -> set[Path]:
    """mkdir -p; returns the parents of the folders it created (their entries changed)."""
    if folder.is_dir():
        return set()
    changed = _make_parents(folder.parent)
    try:
        folder.mkdir()
    except FileExistsError:  # made meanwhile by another request or server
        return changed
    return changed | {folder.parent}
