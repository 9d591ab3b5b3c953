"""Pinned memory and the extractive summary: what stays of turns that leave the sliding window.

When history is compacted, each user turn that leaves the window gives up its **facts**: sentences that state
something (not questions) and carry a name, a number, a date, a path or URL, a decision or a preference ("my
name is ...", "we use port 8443", "the deadline is 3 March", "always answer in French"). Facts are pinned:
they stay in the memory block for the rest of the session, whatever else is dropped. A later fact about the
same subject ("my budget is ...") replaces the earlier one.

Every unit that leaves the window also leaves one **summary line** (who said or did what, shortened). Summary
lines are dropped oldest first when the memory block is over its budget; pinned facts are not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from k2_host.context.relevance import sentences

_FACT_MAX = 300  # characters of one pinned fact
_FACT_WORDS = re.compile(
    r"\b(my|our|we|i|i'm|i've|we're|us)\b.*\b(is|are|was|am|use|using|prefer|prefers|like|want|need|decided|chose|"
    r"live|work|works|called|named|have|has|run|runs|deploy|deployed|moved|switched)\b"
    r"|\b(remember|note that|keep in mind|from now on|always|never|decided|deadline|budget|due|password is|"
    r"the plan is|agreed)\b",
    re.IGNORECASE,
)
_SPECIFIC = re.compile(
    r"\d|https?://|[\w.-]+@[\w-]+\.\w+|[/\\][\w.-]+|\b[A-Z][a-z]+(?:[A-Z][a-z]+)*\b|\"[^\"]+\"|'[^']+'|`[^`]+`"
)
_SUBJECT = re.compile(r"\b(?:my|our|the)\s+((?:[\w-]+\s+){0,2}?[\w-]+)\s+(?:is|are|was|=|:)\b", re.IGNORECASE)


@dataclass(slots=True)
class Fact:
    text: str
    turn: int  # where it was stated
    key: str  # its subject ("budget", "project name"), or the text itself


def facts_of(text: str, turn: int) -> list[Fact]:
    """The facts a user turn states."""
    out: list[Fact] = []
    for s in sentences(text):
        if s.endswith("?") or len(s) < 8:
            continue
        body = s[1:] if s[:1].isupper() else s  # a capital at the start of a sentence is not a name
        marker = _FACT_WORDS.search(s)
        if marker is None or not (marker.group(3) or _SPECIFIC.search(body)):
            continue
        m = _SUBJECT.search(s)
        key = m.group(1).lower() if m else s.lower()
        out.append(Fact(text=s[:_FACT_MAX] + ("…" if len(s) > _FACT_MAX else ""), turn=turn, key=key))
    return out


class Memory:
    """Pinned facts (by subject, newest wins) and summary lines, in the order they left the window.

    The block is append-only between trims (new lines go at the end), so its earlier bytes stay a cacheable
    prefix across compactions; facts and summary lines are interleaved in the order they were added."""

    HEADER = (
        "Memory of this conversation: facts the user stated (pinned) and a summary of earlier turns no longer "
        "shown in full."
    )

    def __init__(self) -> None:
        self.facts: dict[str, Fact] = {}
        self.lines: list[tuple[str, str | None]] = []  # (text, the fact's key when it is a pinned fact)

    @property
    def summary(self) -> list[str]:
        return [text for text, key in self.lines if key is None]

    def pin(self, fact: Fact) -> None:
        if fact.key in self.facts:
            self.lines = [(t, k) for t, k in self.lines if k != fact.key]
        self.facts[fact.key] = fact
        self.lines.append((f"- [turn {fact.turn}] pinned: {fact.text}", fact.key))

    def note(self, line: str) -> None:
        self.lines.append((line, None))

    def drop_summary(self, n: int) -> int:
        """Drop the `n` oldest summary lines (pinned facts stay); returns how many went."""
        out: list[tuple[str, str | None]] = []
        dropped = 0
        for text, key in self.lines:
            if key is None and dropped < n:
                dropped += 1
                continue
            out.append((text, key))
        self.lines = out
        return dropped

    def drop_oldest_fact(self) -> None:
        key = next(iter(self.facts))
        del self.facts[key]
        self.lines = [(t, k) for t, k in self.lines if k != key]

    def render(self) -> str:
        if not self.lines:
            return ""
        return "\n".join([self.HEADER, *(text for text, _ in self.lines)])


def clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
