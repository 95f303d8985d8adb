"""Attachment blobs on disk, outside the database rows, stored once per content.

A blob lives at `<directory>/<sha256[:2]>/<sha256>`: the path is built from the
digest alone, never from the sender's file name, so no name can steer a write
outside the directory, and the same file mailed twice is stored once. The
sender's name is only ever shown (and uploaded under) after `safe_filename`.

Errors: `StorageError` and its subclasses `UnsafePath` (a path that would leave the
directory, or a symlink in the way) and `CorruptBlob` (a stored file whose bytes no longer
match its digest), defined in `models.errors` and re-exported here.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import mimetypes
import os
import re
import shutil
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from models.errors import CorruptBlob as CorruptBlob  # noqa: PLC0414 (re-exported)
from models.errors import StorageError as StorageError  # noqa: PLC0414 (re-exported)
from models.errors import UnsafePath as UnsafePath  # noqa: PLC0414 (re-exported)
from models.stream_safe import cap_marks

MAX_NAME_BYTES = 255  # what ext4, APFS and NTFS allow per name, and the Attachment column
MAX_EXTENSION_CHARS = 16  # longer "extensions" are part of the name, not a type hint
FALLBACK_NAME = "attachment"

# Windows device names: "CON" or "con.txt" opens the console, not a file, on any agent's PC.
_RESERVED_NAMES = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}
    | {f"{device}{n}" for device in ("COM", "LPT") for n in "123456789¹²³"}
)
_FORBIDDEN_CHARS = re.compile(r'[<>:"/\\|?*]')
_SPACES = re.compile(r" {2,}")
# Controls, format characters (bidi overrides that fake an extension, zero-width joiners)
# and lone surrogates (from undecodable bytes, and not encodable as UTF-8).
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Cs"})
_STORAGE_PATH = re.compile(r"(?P<shard>[0-9a-f]{2})/(?P<digest>[0-9a-f]{64})")
# Types mail carries that Python's built-in table lacks.
_EXTENSIONS = {
    "text/calendar": ".ics",
    "application/ms-tnef": ".dat",
    "application/vnd.ms-tnef": ".dat",
}
# The built-in table only: the module-level functions also read /etc/mime.types, whose
# answers differ between hosts.
_MIME_TYPES = mimetypes.MimeTypes()
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_BINARY = getattr(os, "O_BINARY", 0)


@dataclass(frozen=True, slots=True)
class StoredBlob:
    """Where a blob was stored. `storage_path` is relative to the storage directory."""

    sha256: str
    size: int
    storage_path: str
    created: bool  # False when identical content was already there


def sha256_hex(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def extension_for(content_type: str) -> str:
    """ ".pdf" for application/pdf; "" when the type is unknown."""
    mime = content_type.split(";", 1)[0].strip().lower()
    return _EXTENSIONS.get(mime) or _MIME_TYPES.guess_extension(mime) or ""


def safe_filename(name: str, content_type: str) -> str:
    """The sender's file name made safe to show, save and upload on any system.

    Keeps the last path component only ("../../etc/passwd" → "passwd"), drops control
    and format characters, cuts runs of combining marks to 30 (models.stream_safe),
    replaces characters Windows forbids, strips leading dots (no hidden files) and
    trailing dots and spaces, defuses device names ("CON" → "_CON") and cuts the name to
    255 bytes of UTF-8 keeping its extension. An empty result becomes "attachment" plus
    an extension guessed from `content_type`.
    """
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(" " if ch.isspace() else ch for ch in name)
    name = "".join(ch for ch in name if unicodedata.category(ch) not in _DROPPED_CATEGORIES)
    name = unicodedata.normalize("NFC", cap_marks(name))
    name = _FORBIDDEN_CHARS.sub("_", name)
    name = _SPACES.sub(" ", name).lstrip(". ").rstrip(". ")
    if name.split(".", 1)[0].rstrip(" ").upper() in _RESERVED_NAMES:
        name = f"_{name}"
    if not name:
        return FALLBACK_NAME + extension_for(content_type)
    return _fit(name, MAX_NAME_BYTES)


def _fit(name: str, limit: int) -> str:
    """`name` cut to `limit` bytes of UTF-8, on a character boundary, extension kept."""
    if len(name.encode()) <= limit:
        return name
    stem, dot, extension = name.rpartition(".")
    if not (dot and stem) or len(extension) > MAX_EXTENSION_CHARS or " " in extension:
        stem, extension = name, ""
    else:
        extension = dot + extension
    budget = limit - len(extension.encode())
    cut = stem.encode()[:budget].decode("utf-8", "ignore").rstrip(". ")
    return (cut or FALLBACK_NAME) + extension


def _root(directory: Path) -> Path:
    """The storage directory, created if missing, with symlinks in the configured path resolved.

    The configured directory itself may be a symlink (to a volume, say): that is the
    operator's choice. What is inside it is ours, and symlinks there are refused.
    """
    directory.mkdir(parents=True, exist_ok=True)
    return directory.resolve(strict=True)


def probe_writable(directory: Path) -> int:
    """Write, sync and remove a scratch file in the storage directory (creating it if
    missing); returns the bytes free there. Raises OSError naming what failed."""
    root = _root(directory)
    with tempfile.NamedTemporaryFile(dir=root, prefix=".probe-") as probe:
        probe.write(b"ticketbot")
        probe.flush()
        os.fsync(probe.fileno())
    return shutil.disk_usage(root).free


def free_bytes(directory: Path) -> int:
    """Bytes free where blobs go (the directory is created if missing)."""
    return shutil.disk_usage(_root(directory)).free


def _shard(root: Path, digest: str) -> Path:
    shard = root / digest[:2]
    if shard.is_symlink():
        raise UnsafePath(f"{shard} is a symlink; remove it, the storage directory must hold none")
    shard.mkdir(mode=0o700, exist_ok=True)
    if not shard.is_dir():
        raise UnsafePath(f"{shard} is not a directory; remove it")
    return shard


def _matches(path: Path, digest: str) -> bool:
    """True if `path` is a regular file (not a symlink) holding exactly the digested bytes."""
    try:
        return sha256_hex(_read_nofollow(path)) == digest
    except OSError:
        return False


def _read_nofollow(path: Path) -> bytes:
    if path.is_symlink():
        raise UnsafePath(f"{path} is a symlink; the storage directory must hold none")
    fd = os.open(path, os.O_RDONLY | _NOFOLLOW | _BINARY)
    with os.fdopen(fd, "rb") as file:
        return file.read()


def _fsync_dir(path: Path) -> None:
    """Make a rename durable (POSIX); Windows cannot open directories and needs no such step."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


def store_attachment(directory: Path, content: bytes, *, max_bytes: int) -> StoredBlob | None:
    """Store `content` once under its digest; None (nothing written) if over `max_bytes`.

    The file is written to a temporary name in the same directory, flushed to disk and
    renamed into place, so a reader never sees half a file and a crash leaves no
    truncated blob. A rename replaces a symlink rather than following it; a symlink on
    the way is refused. Blocking: call `store_attachment_async` from the event loop.
    """
    if len(content) > max_bytes:
        return None
    digest = sha256_hex(content)
    root = _root(directory)
    shard = _shard(root, digest)
    target = shard / digest
    relative = f"{digest[:2]}/{digest}"
    if target.is_symlink():
        raise UnsafePath(f"{target} is a symlink; remove it, the storage directory must hold none")
    if _matches(target, digest):
        return StoredBlob(digest, len(content), relative, created=False)
    fd, temporary = tempfile.mkstemp(dir=shard, prefix=".incoming-")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(content)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    _fsync_dir(shard)
    return StoredBlob(digest, len(content), relative, created=True)


async def store_attachment_async(
    directory: Path, content: bytes, *, max_bytes: int
) -> StoredBlob | None:
    """`store_attachment` in a worker thread.

    Hashing and fsyncing up to `max_bytes` (10 MiB by default) can take a good part of a
    second on a slow disk; the event loop meanwhile has Slack requests to ack within 3 s.
    """
    return await asyncio.to_thread(store_attachment, directory, content, max_bytes=max_bytes)


def resolve_blob(directory: Path, storage_path: str) -> Path:
    """The file of a `storage_path` we issued; UnsafePath for anything else.

    Only the `ab/ab…` form `store_attachment` returns is accepted, so `..`, absolute
    paths and other names never reach the file system; the resolved path is checked to
    be inside the directory all the same.
    """
    match = _STORAGE_PATH.fullmatch(storage_path)
    if match is None or not match["digest"].startswith(match["shard"]):
        raise UnsafePath(f"not a storage path: {storage_path!r}")
    root = directory.resolve(strict=True)
    path = root / match["shard"] / match["digest"]
    for step in (path.parent, path):
        if step.is_symlink():
            raise UnsafePath(f"{step} is a symlink; the storage directory must hold none")
    if not path.resolve(strict=True).is_relative_to(root):
        raise UnsafePath(f"{storage_path!r} leads out of {root}")
    return path


def open_attachment(directory: Path, storage_path: str) -> bytes:
    """The bytes of a stored blob, checked against their digest.

    Raises UnsafePath for a path we did not issue, FileNotFoundError when the blob is
    missing (is `directory` the one intake stored into?), CorruptBlob when it changed.
    """
    path = resolve_blob(directory, storage_path)
    content = _read_nofollow(path)
    if sha256_hex(content) != path.name:
        raise CorruptBlob(f"{path} no longer matches its digest; restore it from a backup")
    return content


async def open_attachment_async(directory: Path, storage_path: str) -> bytes:
    """`open_attachment` in a worker thread (reading and hashing megabytes blocks)."""
    return await asyncio.to_thread(open_attachment, directory, storage_path)
