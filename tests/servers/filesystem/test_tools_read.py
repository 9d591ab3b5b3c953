"""read_file, read_multiple_files and the file:// resource, driven in-process through the MCP client."""

from __future__ import annotations

import base64
import hashlib
import os
import struct
import wave
import zlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from k2_filesystem.config import FilesystemSettings
from k2_filesystem.server import build_server
from mcp import Client, MCPError
from mcp.types import (
    AudioContent,
    BlobResourceContents,
    EmbeddedResource,
    ImageContent,
    TextContent,
    TextResourceContents,
)

from tests.servers.filesystem.common import ok, refusal

pytestmark = pytest.mark.anyio


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[Client]:
    async with Client(build_server(FilesystemSettings(roots=[tmp_path]))) as c:
        yield c


async def read(client: Client, **args: Any) -> dict[str, Any]:
    return await ok(client, "read_file", **args)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def text_slice(path: str, data: bytes, content: str, **fields: Any) -> dict[str, Any]:
    """The structured result expected for a text read; `fields` override the whole-file defaults."""
    expected = {
        "path": path,
        "content": content,
        "encoding": "utf-8",
        "mime_type": "text/plain",
        "size": len(data),
        "offset": 0,
        "lines_returned": content.count("\n") + (0 if content.endswith("\n") or not content else 1),
        "total_lines": None,
        "next_offset": None,
        "truncated": False,
        "truncation_reason": None,
        "sha256": sha(data),
    }
    return expected | fields


def png_bytes() -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00\xff\x00\x00")
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def write_wav(path: Path) -> bytes:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\x00\x01" * 16)
    return path.read_bytes()


# read_file: text windows


async def test_read_file_returns_a_small_text_file_whole_with_its_hash(client: Client, tmp_path: Path) -> None:
    data = b"alpha\nbeta\ngamma\n"
    (tmp_path / "notes.txt").write_bytes(data)

    result = await client.call_tool("read_file", {"path": "notes.txt"})

    assert not result.is_error
    assert result.content == [TextContent(type="text", text="alpha\nbeta\ngamma\n")]
    assert result.structured_content == text_slice("notes.txt", data, "alpha\nbeta\ngamma\n", total_lines=3)


async def test_read_file_accepts_an_absolute_path_inside_the_root(client: Client, tmp_path: Path) -> None:
    data = b"no newline at the end"
    (tmp_path / "abs.txt").write_bytes(data)
    path = str(tmp_path / "abs.txt")

    assert await read(client, path=path) == text_slice(path, data, "no newline at the end", total_lines=1)


async def test_read_file_returns_the_window_asked_for_and_where_to_read_on(client: Client, tmp_path: Path) -> None:
    data = "".join(f"line {i}\n" for i in range(10)).encode()
    (tmp_path / "ten.txt").write_bytes(data)

    first = await client.call_tool("read_file", {"path": "ten.txt", "offset": 2, "limit": 3})

    reason = "more lines follow; read on from next_offset"
    assert first.structured_content == text_slice(
        "ten.txt",
        data,
        "line 2\nline 3\nline 4\n",
        offset=2,
        total_lines=10,
        next_offset=5,
        truncated=True,
        truncation_reason=reason,
    )
    assert first.content == [
        TextContent(type="text", text=f"line 2\nline 3\nline 4\n\n[truncated: {reason}; next_offset=5]")
    ]


async def test_read_file_last_window_has_no_next_offset(client: Client, tmp_path: Path) -> None:
    data = "".join(f"line {i}\n" for i in range(10)).encode()
    (tmp_path / "ten.txt").write_bytes(data)

    last = await read(client, path="ten.txt", offset=8, limit=5)

    assert last == text_slice("ten.txt", data, "line 8\nline 9\n", offset=8, total_lines=10)


async def test_read_file_offset_past_the_end_returns_nothing(client: Client, tmp_path: Path) -> None:
    data = b"one\ntwo\n"
    (tmp_path / "two.txt").write_bytes(data)

    assert await read(client, path="two.txt", offset=50) == text_slice(
        "two.txt", data, "", offset=50, lines_returned=0, total_lines=2
    )


async def test_read_file_stops_at_the_output_character_cap_on_a_line_boundary(tmp_path: Path) -> None:
    line = "x" * 99 + "\n"
    data = (line * 30).encode()
    (tmp_path / "wide.txt").write_bytes(data)

    async with Client(build_server(FilesystemSettings(roots=[tmp_path], max_output_chars=1000))) as client:
        got = await read(client, path="wide.txt")

    assert got == text_slice(
        "wide.txt",
        data,
        line * 10,
        total_lines=30,
        next_offset=10,
        truncated=True,
        truncation_reason="output limit of 1000 characters reached",
    )


async def test_read_file_cuts_a_line_longer_than_the_cap_and_flags_it(tmp_path: Path) -> None:
    data = ("y" * 5000 + "\nshort\n").encode()
    (tmp_path / "long.txt").write_bytes(data)

    async with Client(build_server(FilesystemSettings(roots=[tmp_path], max_output_chars=1000))) as client:
        got = await read(client, path="long.txt")
        rest = await read(client, path="long.txt", offset=got["next_offset"])

    assert got == text_slice(
        "long.txt",
        data,
        "y" * 1000,
        lines_returned=1,
        total_lines=2,
        next_offset=1,
        truncated=True,
        truncation_reason="line 1 is longer than 1000 characters; it was cut",
    )
    assert rest["content"] == "short\n"
    assert rest["truncated"] is False


async def test_read_file_flags_a_cut_line_even_when_it_is_the_last_one(tmp_path: Path) -> None:
    data = ("z" * 3000).encode()
    (tmp_path / "one-line.txt").write_bytes(data)

    async with Client(build_server(FilesystemSettings(roots=[tmp_path], max_output_chars=1000))) as client:
        got = await read(client, path="one-line.txt")

    assert (got["content"], got["lines_returned"], got["truncated"], got["next_offset"]) == ("z" * 1000, 1, True, None)


async def test_read_file_streams_a_file_over_the_whole_read_cap(tmp_path: Path) -> None:
    data = "".join(f"row {i:04d}\n" for i in range(500)).encode()  # 4500 bytes
    (tmp_path / "big.log").write_bytes(data)

    async with Client(build_server(FilesystemSettings(roots=[tmp_path], max_read_bytes=1024))) as client:
        middle = await read(client, path="big.log", offset=250, limit=3)
        end = await read(client, path="big.log", offset=498, limit=10)

    streamed = {"size": len(data), "total_lines": None, "sha256": None}
    assert middle == text_slice(
        "big.log",
        data,
        "row 0250\nrow 0251\nrow 0252\n",
        offset=250,
        next_offset=253,
        truncated=True,
        truncation_reason="more lines follow; read on from next_offset",
        **streamed,
    )
    assert end == text_slice("big.log", data, "row 0498\nrow 0499\n", offset=498, **streamed)


# read_file: encodings


@pytest.mark.parametrize(
    ("encoding", "expected_encoding"),
    [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("utf-16", "utf-16")],
)
async def test_read_file_decodes_unicode_encodings(
    client: Client, tmp_path: Path, encoding: str, expected_encoding: str
) -> None:
    text = "Grüße aus Zürich — 東京 🚀\nzweite Zeile\n"
    data = text.encode(encoding)
    (tmp_path / "uni.txt").write_bytes(data)

    got = await read(client, path="uni.txt")

    assert got == text_slice("uni.txt", data, text, encoding=expected_encoding, total_lines=2)


@pytest.mark.parametrize(
    ("text", "codec", "detected"),
    [
        (
            "Le café de la gare servait une crème brûlée très appréciée, à côté du théâtre où l'on jouait.\n"
            "Deuxième ligne, façade élégante.\n",
            "latin-1",
            "cp1252",
        ),
        ("He said “it’s fine” – and paid 5 € for the café and the crème brûlée.\nNext line.\n", "cp1252", "cp1252"),  # noqa: RUF001
        ("naïve\nGröße\n", "latin-1", "cp1252"),
        ("Příliš žluťoučký kůň úpěl ďábelské ódy.\nZažółć gęślą jaźń.\n", "cp1250", "cp1250"),
        ("Съешь же ещё этих мягких французских булок.\nда выпей чаю\n", "cp1251", "cp1251"),  # noqa: RUF001
    ],
)
async def test_read_file_decodes_legacy_single_byte_encodings(
    client: Client, tmp_path: Path, text: str, codec: str, detected: str
) -> None:
    data = text.encode(codec)
    (tmp_path / "legacy.txt").write_bytes(data)

    got = await read(client, path="legacy.txt")

    assert got == text_slice("legacy.txt", data, text, encoding=detected, total_lines=2)


async def test_read_file_keeps_crlf_line_endings_and_counts_lines_on_newlines(client: Client, tmp_path: Path) -> None:
    data = b"first\r\nsecond\r\nthird"
    (tmp_path / "dos.txt").write_bytes(data)

    got = await read(client, path="dos.txt", offset=1)

    assert got == text_slice("dos.txt", data, "second\r\nthird", offset=1, lines_returned=2, total_lines=3)


async def test_read_file_returns_an_empty_file_as_empty_text(client: Client, tmp_path: Path) -> None:
    (tmp_path / "empty.txt").write_bytes(b"")

    assert await read(client, path="empty.txt") == text_slice("empty.txt", b"", "", total_lines=0)


# read_file: media and binary


async def test_read_file_returns_a_png_as_image_content(client: Client, tmp_path: Path) -> None:
    data = png_bytes()
    (tmp_path / "dot.png").write_bytes(data)

    result = await client.call_tool("read_file", {"path": "dot.png"})

    assert not result.is_error
    assert result.content == [ImageContent(type="image", data=base64.b64encode(data).decode(), mime_type="image/png")]
    assert result.structured_content == media_slice("dot.png", data, "image/png")


async def test_read_file_recognises_a_png_by_its_signature_whatever_its_name(client: Client, tmp_path: Path) -> None:
    (tmp_path / "picture.dat").write_bytes(png_bytes())

    result = await client.call_tool("read_file", {"path": "picture.dat"})

    assert [type(block) for block in result.content] == [ImageContent]
    assert result.structured_content is not None
    assert result.structured_content["mime_type"] == "image/png"


async def test_read_file_returns_a_wav_as_audio_content(client: Client, tmp_path: Path) -> None:
    data = write_wav(tmp_path / "beep.wav")

    result = await client.call_tool("read_file", {"path": "beep.wav"})

    assert not result.is_error
    assert result.content == [AudioContent(type="audio", data=base64.b64encode(data).decode(), mime_type="audio/wav")]
    assert result.structured_content == media_slice("beep.wav", data, "audio/wav")


async def test_read_file_returns_unknown_binary_as_an_embedded_blob(client: Client, tmp_path: Path) -> None:
    data = bytes(range(256)) * 4
    (tmp_path / "blob").write_bytes(data)

    result = await client.call_tool("read_file", {"path": "blob"})

    assert not result.is_error
    assert result.content == [
        EmbeddedResource(
            type="resource",
            resource=BlobResourceContents(
                uri=(tmp_path / "blob").as_uri(),
                mime_type="application/octet-stream",
                blob=base64.b64encode(data).decode(),
            ),
        )
    ]
    assert result.structured_content == media_slice("blob", data, "application/octet-stream")


async def test_read_file_blob_uri_is_percent_encoded_and_reads_back_as_a_resource(
    client: Client, tmp_path: Path
) -> None:
    data = b"\x00\x01\x02 odd name"
    (tmp_path / "my file #1.bin").write_bytes(data)

    result = await client.call_tool("read_file", {"path": "my file #1.bin"})
    [block] = result.content
    assert isinstance(block, EmbeddedResource)
    uri = str(block.resource.uri)
    again = await client.read_resource(uri)

    assert uri == (tmp_path / "my file #1.bin").as_uri()
    assert " " not in uri
    [content] = again.contents
    assert isinstance(content, BlobResourceContents)
    assert base64.b64decode(content.blob) == data


async def test_read_file_refuses_binary_over_the_media_limit(tmp_path: Path) -> None:
    (tmp_path / "large.bin").write_bytes(b"\x00" * 4096)

    async with Client(build_server(FilesystemSettings(roots=[tmp_path], max_media_bytes=1024))) as client:
        result = await client.call_tool("read_file", {"path": "large.bin"})

    assert refusal(result) == "too_large"


async def test_read_file_refuses_binary_over_the_whole_read_cap(tmp_path: Path) -> None:
    (tmp_path / "huge.bin").write_bytes(b"\x00\x01" * 2048)

    async with Client(build_server(FilesystemSettings(roots=[tmp_path], max_read_bytes=1024))) as client:
        result = await client.call_tool("read_file", {"path": "huge.bin"})

    assert refusal(result) == "too_large"


def media_slice(path: str, data: bytes, mime: str) -> dict[str, Any]:
    return {
        "path": path,
        "content": "",
        "encoding": None,
        "mime_type": mime,
        "size": len(data),
        "offset": 0,
        "lines_returned": 0,
        "total_lines": None,
        "next_offset": None,
        "truncated": False,
        "truncation_reason": None,
        "sha256": sha(data),
    }


# read_file: refusals


async def test_read_file_refuses_a_missing_file(client: Client) -> None:
    assert refusal(await client.call_tool("read_file", {"path": "absent.txt"})) == "not_found"


async def test_read_file_refuses_a_directory(client: Client, tmp_path: Path) -> None:
    (tmp_path / "folder").mkdir()

    assert refusal(await client.call_tool("read_file", {"path": "folder"})) == "wrong_kind"


async def test_read_file_refuses_a_fifo_without_blocking(client: Client, tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")

    assert refusal(await client.call_tool("read_file", {"path": "pipe"})) == "wrong_kind"


async def test_read_file_refuses_a_path_outside_the_roots(client: Client, tmp_path: Path) -> None:
    outside = tmp_path.parent / f"{tmp_path.name}-outside.txt"
    outside.write_text("secret")
    try:
        result = await client.call_tool("read_file", {"path": str(outside)})
    finally:
        outside.unlink()

    assert refusal(result) == "access_denied"
    assert "secret" not in str(result.content)


# read_multiple_files


async def test_read_multiple_files_reports_each_failure_without_failing_the_batch(
    client: Client, tmp_path: Path
) -> None:
    (tmp_path / "a.txt").write_bytes(b"first file\n")
    (tmp_path / "b.txt").write_bytes(b"second file\n")
    (tmp_path / "dot.png").write_bytes(png_bytes())
    (tmp_path / "dir").mkdir()

    result = await client.call_tool(
        "read_multiple_files", {"paths": ["a.txt", "missing.txt", "dot.png", "dir", "b.txt", "/etc/hostname"]}
    )

    assert not result.is_error
    got = result.structured_content
    assert got is not None
    files = got["files"]
    assert [(f["path"], f["ok"], f["error_code"]) for f in files] == [
        ("a.txt", True, None),
        ("missing.txt", False, "not_found"),
        ("dot.png", False, "unsupported"),
        ("dir", False, "wrong_kind"),
        ("b.txt", True, None),
        ("/etc/hostname", False, "access_denied"),
    ]
    assert files[0]["file"] == text_slice("a.txt", b"first file\n", "first file\n", total_lines=1)
    assert files[4]["file"] == text_slice("b.txt", b"second file\n", "second file\n", total_lines=1)
    assert all(f["error"] for f in files if not f["ok"])
    assert (got["succeeded"], got["failed"]) == (2, 4)


async def test_read_multiple_files_applies_the_line_limit_to_each_file(client: Client, tmp_path: Path) -> None:
    (tmp_path / "x.txt").write_text("1\n2\n3\n")
    (tmp_path / "y.txt").write_text("a\nb\n")

    got = (await client.call_tool("read_multiple_files", {"paths": ["x.txt", "y.txt"], "limit": 2})).structured_content

    assert got is not None
    assert [(f["file"]["content"], f["file"]["next_offset"]) for f in got["files"]] == [("1\n2\n", 2), ("a\nb\n", None)]


# file:// resource template


async def test_file_resource_returns_a_text_file(client: Client, tmp_path: Path) -> None:
    (tmp_path / "res.txt").write_text("resource body\n")
    uri = (tmp_path / "res.txt").as_uri()

    result = await client.read_resource(uri)

    assert len(result.contents) == 1
    content = result.contents[0]
    assert isinstance(content, TextResourceContents)
    assert (str(content.uri), content.text) == (uri, "resource body\n")


async def test_file_resource_returns_binary_as_a_blob(client: Client, tmp_path: Path) -> None:
    data = png_bytes()
    (tmp_path / "res.png").write_bytes(data)

    result = await client.read_resource((tmp_path / "res.png").as_uri())

    content = result.contents[0]
    assert isinstance(content, BlobResourceContents)
    assert base64.b64decode(content.blob) == data
    assert content.mime_type == "image/png"


async def test_file_resource_refuses_a_file_outside_the_roots(client: Client) -> None:
    with pytest.raises(MCPError):
        await client.read_resource("file:///etc/hostname")


async def test_file_resource_refuses_a_missing_file(client: Client, tmp_path: Path) -> None:
    with pytest.raises(MCPError):
        await client.read_resource((tmp_path / "nothing.txt").as_uri())


async def test_file_resource_refuses_a_file_too_large_to_return_whole(tmp_path: Path) -> None:
    (tmp_path / "long.txt").write_text("x" * 99 + "\n" + "y" * 2000 + "\n")

    async with Client(build_server(FilesystemSettings(roots=[tmp_path], max_output_chars=1000))) as client:
        with pytest.raises(MCPError):
            await client.read_resource((tmp_path / "long.txt").as_uri())


async def test_file_resource_template_is_listed(client: Client) -> None:
    templates = (await client.list_resource_templates()).resource_templates

    assert [(t.name, t.uri_template) for t in templates] == [("file", "file://{+path}")]


async def test_read_file_gives_up_skipping_to_a_far_offset_of_a_streamed_file_in_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from k2_filesystem import reading

    monkeypatch.setattr(reading, "STREAM_SKIP_SECONDS", 0.0)
    (tmp_path / "big.log").write_text("".join(f"entry {i}\n" for i in range(20_000)))
    settings = FilesystemSettings(roots=[tmp_path], max_read_bytes=1024)
    async with Client(build_server(settings)) as c:
        result = await c.call_tool("read_file", {"path": "big.log", "offset": 15_000})
        assert result.is_error
        assert refusal(result) == "too_large"
        near = await c.call_tool("read_file", {"path": "big.log", "offset": 10, "limit": 1})
        assert near.structured_content is not None
        assert near.structured_content["content"] == "entry 10\n"


async def test_read_file_reads_a_file_too_big_for_the_event_loop_on_a_worker_thread(
    client: Client, tmp_path: Path
) -> None:
    lines = [f"{i:07d} " + "x" * 56 + "\n" for i in range(8_000)]  # 512,000 bytes: over the inline limit
    (tmp_path / "half-mb.txt").write_text("".join(lines))
    body = await read(client, path="half-mb.txt", offset=7_998, limit=5)
    assert body["content"] == lines[7_998] + lines[7_999]
    assert body["total_lines"] == 8_000
