"""Guards for untrusted uploads: size limits, zip archives and XML documents.

Nothing here trusts a header: zip members are checked by name and type before
anything is written, and extraction counts the bytes it actually inflates and
stops at the limit, whatever the central directory declares.
"""

from __future__ import annotations

import os
import re
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from .errors import FileTooLarge, UnsafeArchive

# Small members compress extremely well without being hostile (a DBF of blanks),
# so the ratio limit applies only once a member inflates past this many bytes.
RATIO_CHECK_MIN_BYTES = 1024 * 1024
_CHUNK_BYTES = 64 * 1024


@dataclass(frozen=True)
class Limits:
    """Resource limits applied to one uploaded plan file."""

    max_upload_bytes: int = 50 * 1024 * 1024
    max_uncompressed_bytes: int = 200 * 1024 * 1024
    max_zip_members: int = 1000
    max_features: int = 100_000
    max_compression_ratio: int = 100


def read_limited(source: bytes | bytearray | memoryview | str | os.PathLike | BinaryIO,
                 *, limits: Limits) -> bytes:
    """Return the upload's bytes, refusing it before reading it all when it is too large."""
    limit = limits.max_upload_bytes
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        if len(data) > limit:
            raise _too_large(len(data), limit)
        return data
    if isinstance(source, (str, os.PathLike)):
        size = os.path.getsize(source)
        if size > limit:
            raise _too_large(size, limit)
        with open(source, "rb") as fh:
            return _read_stream(fh, limit)
    if hasattr(source, "read"):
        return _read_stream(source, limit)
    raise TypeError(f"expected bytes, a path or a binary file object, got {type(source).__name__}")


def _read_stream(fh: BinaryIO, limit: int) -> bytes:
    # Read at most one byte past the limit: enough to know it is too large.
    parts: list[bytes] = []
    total = 0
    while True:
        chunk = fh.read(min(_CHUNK_BYTES, limit + 1 - total))
        if not chunk:
            break
        if isinstance(chunk, str):
            raise TypeError("the plan file object must be opened in binary mode")
        parts.append(chunk)
        total += len(chunk)
        if total > limit:
            raise _too_large(None, limit)
    return b"".join(parts)


def _too_large(size: int | None, limit: int) -> FileTooLarge:
    got = f"{size} bytes" if size is not None else "more than that"
    return FileTooLarge(f"the upload is too large: the limit is {limit} bytes, got {got}")


def check_member_name(name: str) -> PurePosixPath:
    """Return the member's relative path, or raise UnsafeArchive if it could escape."""
    if "\x00" in name:
        raise UnsafeArchive(f"the archive member {name!r} has a NUL byte in its name")
    posix = name.replace("\\", "/")
    if posix.startswith("/") or re.match(r"^[A-Za-z]:", posix):
        raise UnsafeArchive(f"the archive member {name!r} has an absolute path")
    path = PurePosixPath(posix)
    if any(part == ".." for part in path.parts):
        raise UnsafeArchive(f"the archive member {name!r} tries to leave the archive (path traversal)")
    return path


def _is_symlink(info: zipfile.ZipInfo) -> bool:
    # Unix mode bits live in the high 16 bits of external_attr (create_system 3).
    mode = info.external_attr >> 16
    return bool(mode) and stat.S_ISLNK(mode)


def check_archive(zf: zipfile.ZipFile, *, limits: Limits) -> list[zipfile.ZipInfo]:
    """Return the archive's file members after refusing hostile names, links and bombs."""
    infos = zf.infolist()
    if len(infos) > limits.max_zip_members:
        raise UnsafeArchive(
            f"the archive has {len(infos)} members; the limit is {limits.max_zip_members}")
    declared_total = 0
    files = []
    for info in infos:
        check_member_name(info.filename)
        if _is_symlink(info):
            raise UnsafeArchive(f"the archive member {info.filename!r} is a symbolic link")
        if info.flag_bits & 0x1:
            raise UnsafeArchive(f"the archive member {info.filename!r} is encrypted")
        if info.is_dir():
            continue
        declared_total += info.file_size
        _check_ratio(info, info.file_size, limits)
        files.append(info)
    if declared_total > limits.max_uncompressed_bytes:
        raise UnsafeArchive(
            f"the archive would expand to {declared_total} bytes; the limit is "
            f"{limits.max_uncompressed_bytes} bytes (zip bomb?)")
    return files


def _check_ratio(info: zipfile.ZipInfo, inflated: int, limits: Limits) -> None:
    if inflated <= RATIO_CHECK_MIN_BYTES:
        return
    ratio = inflated / max(info.compress_size, 1)
    if ratio > limits.max_compression_ratio:
        raise UnsafeArchive(
            f"the archive member {info.filename!r} has a compression ratio of {ratio:.0f}:1; "
            f"the limit is {limits.max_compression_ratio}:1 (zip bomb?)")


class ExtractBudget:
    """Count inflated bytes across one archive and stop at the limit."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.used = 0

    def iter_member(self, zf: zipfile.ZipFile, info: zipfile.ZipInfo):
        """Yield the member's bytes in chunks, counted as they are inflated."""
        inflated = 0
        with zf.open(info) as src:
            while chunk := src.read(_CHUNK_BYTES):
                inflated += len(chunk)
                self.used += len(chunk)
                if self.used > self.limits.max_uncompressed_bytes:
                    raise UnsafeArchive(
                        f"the archive expands past the limit of "
                        f"{self.limits.max_uncompressed_bytes} bytes (zip bomb?)")
                if inflated > info.file_size:
                    raise UnsafeArchive(
                        f"the archive member {info.filename!r} inflates past its declared size")
                _check_ratio(info, inflated, self.limits)
                yield chunk

    def read_member(self, zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
        """Return the member's bytes, counted as they are inflated."""
        return b"".join(self.iter_member(zf, info))

    def extract_to(self, zf: zipfile.ZipFile, info: zipfile.ZipInfo, dest: Path) -> Path:
        """Stream the member to `dest` (a path chosen by the caller, never by the archive)."""
        with open(dest, "wb") as out:
            for chunk in self.iter_member(zf, info):
                out.write(chunk)
        return dest


_XML_DECLS = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


def check_xml(data: bytes, *, what: str = "the KML document") -> None:
    """Refuse XML that declares a DOCTYPE or ENTITY, before any parser sees it."""
    # Dropping NUL bytes makes UTF-16/32 text scannable as ASCII as well.
    for blob in (data, data.replace(b"\x00", b"")):
        match = _XML_DECLS.search(blob)
        if match:
            decl = match.group(1).decode("ascii").upper()
            raise UnsafeArchive(
                f"{what} contains a <!{decl}> declaration; DTDs and entities are not allowed")
