"""Follow-up questions, made whole from the conversation (for the offline engine, which has no model to do it).

"Which port does the staging server use?" then "and for production?": the follow-up is short and leans on the
previous question ("and ...", "what about ...", "same for ...", "for X?"). Its new words take the place of the
previous question's word they are closest to (by the embedding model: "production" replaces "staging"), giving
"Which port does the production server use?". Without the model, or when no word is close, the new words are
added to the previous question instead.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

from k2_host.context.transcript import Turn, UserTurn
from k2_host.engine.text import keywords

if TYPE_CHECKING:
    import numpy as np

_LEAD = re.compile(
    r"^\s*(?:and|or|also|then|so|but)?\s*(?:what|how)\s+about\b|^\s*(?:and|or|also)\b|^\s*same\s+(?:for|with|in)\b"
    r"|^\s*(?:for|in|on|with|at)\s+(?:the\s+)?[\w.-]+(?:\s+[\w.-]+)?\s*\??\s*$",
    re.IGNORECASE,
)
_MAX_WORDS = 8
_CLOSE = 0.3  # cosine similarity for "the word it replaces"

Embed = Callable[[list[str]], Awaitable["np.ndarray | None"]]


def previous_question(history: Sequence[Turn]) -> str | None:
    for turn in reversed(history):
        if isinstance(turn, UserTurn):
            return turn.resolved or turn.text
    return None


def is_followup(query: str) -> bool:
    return len(query.split()) <= _MAX_WORDS and bool(_LEAD.search(query))


async def resolve(query: str, history: Sequence[Turn], embed: Embed | None = None) -> str:
    """The question `query` stands for, given the conversation so far (itself when it stands alone)."""
    prev = previous_question(history)
    if prev is None or not is_followup(query):
        return query
    prev_keys = keywords(prev)
    new = [w for w in keywords(query) if w not in prev_keys and w not in {"about", "same"}]
    if not new:
        return prev
    if embed is not None and prev_keys:
        vecs = await embed([*new, *prev_keys])
        if vecs is not None:
            import numpy as np

            out = prev
            sims = vecs[len(new) :] @ vecs[: len(new)].T  # prev x new
            used: set[int] = set()
            appended: list[str] = []
            for j, word in enumerate(new):
                order = np.argsort(-sims[:, j])
                i = next((int(i) for i in order if int(i) not in used), None)
                if i is not None and sims[i, j] >= _CLOSE:
                    used.add(i)
                    out = re.sub(rf"\b{re.escape(prev_keys[i])}\b", word, out, count=1, flags=re.IGNORECASE)
                else:
                    appended.append(word)
            return f"{out} {' '.join(appended)}".strip() if appended else out
    return f"{prev} {' '.join(new)}"
