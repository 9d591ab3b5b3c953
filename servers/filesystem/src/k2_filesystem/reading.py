"""Reading files: text a window of lines at a time with encoding detection, media as base64."""

from __future__ import annotations

import base64
import codecs
import functools
import hashlib
import io
import mimetypes
import os
import time
from dataclasses import dataclass

import charset_normalizer

from k2_filesystem.errors import TooLarge, Unsupported
from k2_filesystem.files import open_regular, read_fd
from k2_filesystem.models import FileSlice
from k2_filesystem.paths import Located

SNIFF_BYTES = 64 * 1024
_SIGNATURES: list[tuple[bytes, str]] = [
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
    (b"%PDF-", "application/pdf"),
    (b"PK\x03\x04", "application/zip"),
    (b"ID3", "audio/mpeg"),
    (b"OggS", "audio/ogg"),
    (b"fLaC", "audio/flac"),
]


def sniff_mime(name: str, head: bytes) -> str:
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio/wav"
    for magic, mime in _SIGNATURES:
        if head.startswith(magic):
            return mime
    guessed, _ = mimetypes.guess_type(name)
    return guessed or "application/octet-stream"


def detect_encoding(sample: bytes, complete: bool) -> str | None:
    """The text encoding of `sample`, or None when it looks binary.

    `complete` says the sample is the whole file (so a multi-byte sequence cut at its end is an error).
    """
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\x00" in sample:
        return None
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if not complete and exc.start >= len(sample) - 3 and exc.reason == "unexpected end of data":
            return "utf-8"
    return _guess_legacy(sample)


WESTERN = "cp1252"  # the most common legacy encoding of text files; it wins a tie


def _guess_legacy(sample: bytes) -> str | None:
    """A single-/multi-byte legacy encoding by charset_normalizer, preferring cp1252 when it fits as well.

    Western text often reads equally well as cp1250 or cp1257 to the detector, which then picks one by its
    own order and turns 'è' into 'č'; ties therefore go to cp1252.
    """
    matches = charset_normalizer.from_bytes(sample)
    best = matches.best()
    if best is None:
        return None
    for match in matches:
        fits_as_well = match.chaos <= best.chaos + 1e-6 and match.coherence >= best.coherence - 1e-6
        if fits_as_well and WESTERN in (match.encoding, *match.could_be_from_charset):
            return WESTERN
    return best.encoding


def split_lines(text: str) -> list[str]:
    """Lines with their endings kept, split on \\n only (a lone \\r or form feed stays inside its line)."""
    if not text:
        return []
    lines = [line + "\n" for line in text.split("\n")]
    if text.endswith("\n"):
        lines.pop()
    else:
        lines[-1] = lines[-1][:-1]
    return lines


@dataclass
class Media:
    """A non-text file: base64 data with its MIME type."""

    mime_type: str
    data_b64: str
    size: int
    sha256: str


@dataclass
class _Window:
    text: str
    count: int
    reason: str | None  # why the window stopped early, if it did
    cut: bool  # its only line was cut short


def _window(lines: list[str], offset: int, limit: int, max_chars: int) -> _Window:
    """Join up to `limit` lines from `offset`, stopping before the text passes `max_chars`."""
    out: list[str] = []
    used = 0
    for line in lines[offset : offset + limit]:
        if used + len(line) > max_chars:
            if not out:  # one line longer than the whole budget: return its start, flagged
                reason = f"line {offset + 1} is longer than {max_chars} characters; it was cut"
                return _Window(line[:max_chars], 1, reason, True)
            return _Window("".join(out), len(out), f"output limit of {max_chars} characters reached", False)
        out.append(line)
        used += len(line)
    return _Window("".join(out), len(out), None, False)


@functools.lru_cache(maxsize=1024)
def _text_mime(name: str) -> str:
    """The MIME type of a text file by its name (the same names are read again and again)."""
    return mimetypes.guess_type(name)[0] or "text/plain"


def _slice(
    loc: Located, encoding: str, size: int, offset: int, win: _Window, more: bool, total: int | None, digest: str | None
) -> FileSlice:
    end = offset + win.count
    truncated = more or win.cut
    # Every field is built here from checked values: skip validation (this is the hot path of read_file).
    return FileSlice.model_construct(
        path=loc.shown,
        content=win.text,
        encoding=encoding,
        mime_type=_text_mime(loc.name),
        size=size,
        offset=offset,
        lines_returned=win.count,
        total_lines=total,
        next_offset=end if more else None,
        truncated=truncated,
        truncation_reason=(win.reason or "more lines follow; read on from next_offset") if truncated else None,
        sha256=digest,
    )


class Offload(Exception):
    """Raised by `read_file(..., inline_max=N)` for a file over N bytes: do this read on a worker thread."""


def read_file(
    loc: Located,
    offset: int,
    limit: int,
    *,
    max_bytes: int,
    max_chars: int,
    max_media_bytes: int,
    inline_max: int | None = None,
) -> FileSlice | Media:
    fd, st = open_regular(loc)
    try:
        if inline_max is not None and st.st_size > inline_max:
            raise Offload
        if st.st_size <= max_bytes:
            data = read_fd(fd, max_bytes + 1, expected=st.st_size)
            if len(data) <= max_bytes:
                return _from_bytes(loc, data, offset, limit, max_chars, max_media_bytes)
            os.lseek(fd, 0, os.SEEK_SET)
        return _streamed(loc, fd, st.st_size, offset, limit, max_chars)
    finally:
        os.close(fd)


def _from_bytes(
    loc: Located, data: bytes, offset: int, limit: int, max_chars: int, max_media: int
) -> FileSlice | Media:
    digest = hashlib.sha256(data).hexdigest()
    encoding = detect_encoding(data[:SNIFF_BYTES], complete=len(data) <= SNIFF_BYTES)
    if encoding is None:
        if max_media == 0:
            mime = sniff_mime(loc.name, data[:16])
            raise Unsupported(f"{loc.shown!r} is a binary file ({mime}); read it on its own with read_file")
        if len(data) > max_media:
            raise TooLarge(f"{loc.shown!r} is binary and {len(data)} bytes, over the {max_media}-byte media limit")
        mime = sniff_mime(loc.name, data[:16])
        return Media(mime, base64.b64encode(data).decode("ascii"), len(data), digest)
    text = data.decode(encoding, errors="replace")
    if offset == 0 and len(text) <= max_chars:
        total = text.count("\n") + (0 if not text or text.endswith("\n") else 1)
        if total <= limit:  # the common case, a whole small file: no need to split it into lines
            return _slice(loc, encoding, len(data), 0, _Window(text, total, None, False), False, total, digest)
    lines = split_lines(text)
    win = _window(lines, offset, limit, max_chars)
    more = offset + win.count < len(lines)
    return _slice(loc, encoding, len(data), offset, win, more, len(lines), digest)


def _streamed(loc: Located, fd: int, size: int, offset: int, limit: int, max_chars: int) -> FileSlice:
    """A file over the whole-read cap: decode it as a stream, skipping to `offset`."""
    head = read_fd(fd, SNIFF_BYTES)
    os.lseek(fd, 0, os.SEEK_SET)
    encoding = detect_encoding(head, complete=False)
    if encoding is None:
        raise TooLarge(f"{loc.shown!r} is a binary file of {size} bytes, too large to return")
    raw = os.fdopen(os.dup(fd), "rb", buffering=CHUNK_STREAM)
    deadline = time.monotonic() + STREAM_SKIP_SECONDS
    with io.TextIOWrapper(raw, encoding=encoding, errors="replace", newline="\n") as text:
        for skipped in range(offset):
            if not _read_line(text):
                break
            if skipped % 1024 == 1023 and time.monotonic() > deadline:
                raise TooLarge(
                    f"reaching line {offset} of {loc.shown!r} ({size} bytes) took over {STREAM_SKIP_SECONDS}s "
                    f"(stopped at line {skipped + 1}); use grep to find the lines you need"
                )
        window: list[str] = []
        chars = 0
        while len(window) < limit and chars <= max_chars:
            line = _read_line(text)
            if not line:
                break
            window.append(line)
            chars += len(line)
        more = bool(_read_line(text))
    win = _window(window, 0, limit, max_chars)
    more = more or win.count < len(window)
    return _slice(loc, encoding, size, offset, win, more, None, None)


CHUNK_STREAM = 1 << 20
STREAM_SKIP_SECONDS = 10.0
MAX_LINE_CHARS = 1 << 20


def _read_line(text: io.TextIOWrapper) -> str:
    """One line ending in \\n (or the rest of the file), at most MAX_LINE_CHARS characters."""
    return text.readline(MAX_LINE_CHARS)
