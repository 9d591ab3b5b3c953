"""edit_file's matching: exact replacements, line-ending matching, and near-miss explanations."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from pydantic import BaseModel, Field

from k2_filesystem.errors import EditConflict

MAX_NEAR_MISS_WORK = 4_000_000  # lines x window size compared at most when explaining a miss


class Edit(BaseModel):
    old_text: str = Field(min_length=1, max_length=1_000_000, description="exact text to find")
    new_text: str = Field(max_length=1_000_000, description="text to put in its place")
    replace_all: bool = Field(False, description="replace every occurrence instead of requiring exactly one")


@dataclass
class Applied:
    text: str
    replacements: int
    notes: list[str]


def _line_of(text: str, index: int) -> int:
    return text.count("\n", 0, index) + 1


def apply_edits(text: str, edits: list[Edit], shown: str) -> Applied:
    """Apply `edits` in order; any edit that cannot apply exactly fails the whole call (nothing is written)."""
    crlf = "\r\n" in text
    notes: list[str] = []
    total = 0
    for number, edit in enumerate(edits, start=1):
        old, new = edit.old_text, edit.new_text
        count = text.count(old)
        if count == 0 and crlf and "\n" in old and "\r\n" not in old:
            old, new = old.replace("\n", "\r\n"), new.replace("\n", "\r\n")
            count = text.count(old)
            if count:
                notes.append(f"edit {number}: matched with the file's CRLF line endings")
        elif crlf and "\n" in new and "\r\n" not in new:
            new = new.replace("\n", "\r\n")
            notes.append(f"edit {number}: new_text given the file's CRLF line endings")
        if count == 0:
            raise EditConflict(f"edit {number}: old_text was not found in {shown!r}. {near_miss(text, old)}")
        if count > 1 and not edit.replace_all:
            lines = []
            start = 0
            while len(lines) < 10:
                at = text.find(old, start)
                if at < 0:
                    break
                lines.append(str(_line_of(text, at)))
                start = at + 1
            raise EditConflict(
                f"edit {number}: old_text occurs {count} times in {shown!r} (lines {', '.join(lines)}); "
                "add surrounding lines to make it unique, or pass replace_all=true"
            )
        text = text.replace(old, new) if edit.replace_all else text.replace(old, new, 1)
        total += count if edit.replace_all else 1
    return Applied(text, total, notes)


def near_miss(text: str, old: str) -> str:
    """Say where the closest text is and how it differs, so the caller can fix old_text."""
    file_lines = text.split("\n")
    want = old.strip("\n").split("\n")
    n = len(want)
    if not file_lines or n == 0:
        return "The file is empty." if not text else ""
    stripped_want = [w.strip() for w in want]
    if len(file_lines) * n > MAX_NEAR_MISS_WORK:
        first = stripped_want[0]
        for i, line in enumerate(file_lines):
            if first and line.strip() == first:
                return f"Its first line appears (ignoring indentation) at line {i + 1}; read the file there."
        return "No line of the file resembles its first line; read the file before editing."
    best_ratio, best_at = 0.0, 0
    target = "\n".join(want)
    for i in range(max(1, len(file_lines) - n + 1)):
        candidate = "\n".join(file_lines[i : i + n])
        matcher = difflib.SequenceMatcher(None, candidate, target, autojunk=False)
        if matcher.real_quick_ratio() <= best_ratio or matcher.quick_ratio() <= best_ratio:
            continue
        ratio = matcher.ratio()
        if ratio > best_ratio:
            best_ratio, best_at = ratio, i
    if best_ratio < 0.5:
        return "Nothing in the file is close to it; read the file and copy the text exactly."
    found = file_lines[best_at : best_at + n]
    where = f"lines {best_at + 1}-{best_at + len(found)}"
    if [f.strip() for f in found] == stripped_want:
        return f"The closest text, at {where}, differs only in whitespace or indentation; copy it exactly."
    diff = "\n".join(difflib.unified_diff(want, found, fromfile="old_text", tofile=f"file {where}", lineterm="", n=0))
    return f"The closest text ({best_ratio:.0%} similar) is at {where}:\n{diff[:2000]}"


def unified_diff(before: str, after: str, shown: str) -> str:
    """A unified diff; a last line without a newline is marked as `diff` and `git` do, not glued to the next."""
    out: list[str] = []
    lines = difflib.unified_diff(
        before.splitlines(keepends=True), after.splitlines(keepends=True), fromfile=shown, tofile=shown
    )
    for line in lines:
        out.append(line)
        if not line.endswith("\n"):
            out.append("\n\\ No newline at end of file\n")
    return "".join(out)
