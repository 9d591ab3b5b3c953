"""Answering a factual question from the folder index: read the question, rank the candidate units, extract the
value the question asks for, or abstain.

    q = Question.read("What is the default max age of starlette's CORS middleware?", index.trees())
    hits = rank(q, index, embed)            # best first; [] when nothing covers the question well enough
    answer = extract(q, hits[0], index)     # the headline value and the lines to cite, first the one it comes from

The question's kind (a default or limit, a name, a version, an environment variable, what a setting does)
decides which units can carry its answer and what part of them is the answer. The ranking is lexical first
(the share of the question's words, weighted by rarity, that the unit covers in its text, name, scope, path
or context), then a dense similarity on the shortlist, then the kind's prior; sub-trees the question names
(`httpx`, `body-parser`) are preferred.
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import numpy as np

from k2_host.engine import text as tx
from k2_host.engine.index import FolderIndex, Hit
from k2_host.engine.units import tokens

Embed = Callable[[list[str]], Awaitable[np.ndarray | None]]

FIELD_WEIGHT = {"name": 1.0, "body": 1.0, "scope": 0.85, "path": 0.75, "ctx": 0.5, "sort": 0.0}
# Words that say what kind of answer is wanted rather than what it is about.
_GENERIC_WORDS = """default defaults value values set setting settings installed happen happens mean means behaviour
    behavior kind type exactly many long much large size maximum minimum limit option options"""
GENERIC = {tokens(w)[0] for w in _GENERIC_WORDS.split()}
MIN_SCORE = 1.0  # a best candidate scoring below this is not an answer (tuned on the development set)
MIN_COVERAGE = 0.15  # nor one that covers less of the question's subject than this, however good its priors

_NAME_Q = re.compile(
    r"(?i)^\s*(?:which|what)\b(?:\s+\w+){0,4}?\s+(?:class|function|exception|error|decorator|filter|recipe|strategy|"
    r"transport|middleware|method|helper|policy|subclass|convertor|converter|loader|type)\b"
)
_ENV_Q = re.compile(r"(?i)\benvironment\s+variables?\b|\benv\s+var")
_VERSION_Q = re.compile(r"(?i)\bversion\b")
_SETTING_Q = re.compile(
    r"(?i)^\s*(?:what\s+does|what\s+happens|how\s+does|what\s+kind|what\s+is\s+\S+\s+for|when\s+exactly)"
)
# Phrases of questions that code spells as one word.
_PHRASES = [
    (re.compile(r"(?i)\b(?:at\s+most|upper\s+bound|upper\s+limit|largest|the\s+most)\b"), "max"),
    (re.compile(r"(?i)\b(?:at\s+least|lower\s+bound|lower\s+limit|smallest)\b"), "min"),
]
_EMPTY = {"[]", "{}", "()", "''", '""', "set()", "dict()", "list()"}
_NUMERIC_Q = re.compile(
    r"(?i)\bhow\s+(?:many|much|long|large|big|deep)\b|\bnumber\s+of\b|\bsize\b|\blimit\b|\bmax|\bmin|timeout"
    r"|\bseconds?\b|\bbytes?\b|\bage\b|\bwidth\b|\blength\b|\bdepth\b|\bcode\b|\blevel\b|\bport\b"
)
_SENTINELS = {"None", "...", "null", "undefined", "UNSET", "NotImplemented", "MISSING", "_missing", "missing"}
_DEFAULT_Q = re.compile(r"(?i)\bby\s+default\b|\bdefault\b")
_ERROR_Q = re.compile(r"(?i)\b(?:exception|error)\b")
_MENTIONED = re.compile(r"(?::(?:class|exc):)?`~?(?:[\w.]+\.)?([A-Z][A-Za-z0-9]+)`")  # `HTTPStatusError`, :exc:`x.Y`
_ENV_TEMPLATE = re.compile(r"""\bf["']([\w{}]*_[\w{}]*)["']\.upper\(\)""")  # f"_{prog_name}_COMPLETE".upper()
_IDENT_VALUE = re.compile(r"^[A-Za-z_][\w.]*(?:\(\))?$")
_UPPER_NAME = re.compile(
    r"""["'`]\$?([A-Z][A-Z0-9]*_[A-Z0-9_]+|[A-Z]{3,})["'`]|process\.env\.([A-Z][A-Z0-9_]+)|\b([A-Z][A-Z0-9]*_[A-Z0-9_]+)\b"""
)


@dataclass
class Question:
    text: str
    kind: str  # value, name, version, env, setting
    terms: dict[str, float]  # canonical word -> weight
    trees: list[str]  # sub-trees named in the question
    subject: set[str]  # the words that are not generic nor a tree's name
    idents: set[str]  # the question's words as written (lowercase), to match names exactly
    compounds: dict[str, tuple[str, str]] = field(default_factory=dict)  # a joined pair of words the folder uses
    unknown: list[str] = field(default_factory=list)  # identifiers in the question the folder never uses
    numeric: bool = False  # the answer is a number (a count, a size, a duration, a code)

    @classmethod
    def read(cls, text: str, trees: dict[str, list[str]], index: FolderIndex) -> Question:
        if re.match(r"(?i)\s*which\s+(?:\w+\s+)?(?:exception|error)\b", text):
            kind = "name"
        elif _ENV_Q.search(text):
            kind = "env"
        elif _VERSION_Q.search(text) and re.search(r"(?i)installed|__version__|what\s+version", text):
            kind = "version"
        elif _NAME_Q.search(text) and not (_DEFAULT_Q.search(text) and not _ERROR_Q.search(text)):
            kind = "name"
        elif _SETTING_Q.search(text) and not _DEFAULT_Q.search(text):
            kind = "setting"
        else:
            kind = "value"
        for phrase, word in _PHRASES:
            text = phrase.sub(word, text)
        raw = set(re.findall(r"[A-Za-z0-9][\w\-.]*", text.lower()))
        named = [t for t, words in trees.items() if _names_tree(t, words, raw, text)]
        tree_words = {w for t in named for w in trees[t]}
        words: list[str] = []
        aside = {t for part in re.findall(r"\(([^)]*)\)", text) for t in tokens(part)}  # a parenthesis explains
        for w in tx.keywords(text) + [w for w in re.findall(r"\b[a-z]{2}\b", text.lower()) if w in tree_words]:
            words.extend(tokens(w))
        main = {t for t in tokens(re.sub(r"\([^)]*\)", " ", text))}
        terms: dict[str, float] = {}
        for w in dict.fromkeys(words):
            # a word the folder never uses weighs in too: no unit covers it, which tells
            weight = 1.5 if not index.known(w) and w not in tree_words else max(0.5, min(index.idf(w), 8.0))
            if w in GENERIC:
                weight *= 0.3
            if w in tree_words:
                weight *= 0.4
            if w in aside and w not in main:
                weight *= 0.5
            terms[w] = weight
        compounds: dict[str, tuple[str, str]] = {}
        for x, y in itertools.pairwise(re.findall(r"[A-Za-z]+", text.lower())):
            a, b, joined = tokens(x), tokens(y), tokens(x + y)  # joined before stemming: progress+bar, not progres+
            single = len(a) == len(b) == len(joined) == 1
            if single and a[0] in terms and b[0] in terms and joined[0] not in terms and index.known(joined[0]):
                compounds[joined[0]] = (a[0], b[0])  # "progress bar" is `progressbar` in code
        subject = {w for w in terms if w not in GENERIC and w not in tree_words}
        plain = [w.lower() for w in re.findall(r"[A-Za-z_][\w\-]*", text)]
        idents = {w.replace("_", "").replace("-", "") for w in plain if len(w) > 3}
        for n in (2, 3):  # "max age" names max_age, "keep alive expiry" keepaliveExpiry
            idents |= {"".join(plain[i : i + n]).replace("_", "") for i in range(len(plain) - n + 1)}
        # an identifier the question spells (`wait_fibonacci`, `maxClients`) that the folder never uses
        unknown = [
            w
            for w in re.findall(r"\b[A-Za-z]+(?:_[A-Za-z0-9]+)+\b|\b[a-z]+[A-Z]\w*\b", text)
            if not index.known(w.lower())
        ]
        numeric = bool(_NUMERIC_Q.search(text))
        return cls(text, kind, terms, named, subject, idents, compounds, unknown, numeric)


def _names_tree(tree: str, words: list[str], raw: set[str], text: str) -> bool:
    name = tree.removeprefix("node_modules/").lower()
    if name in raw or f"{name}'s" in raw:
        return True
    return bool(re.search(rf"(?i)(?<![\w-]){re.escape(name)}(?![\w-])", text)) and len(name) > 2


@dataclass
class Ranked:
    hit: Hit
    lexical: float
    coverage: float  # share of the subject words covered
    score: float
    why: dict[str, float] = field(default_factory=dict)


def coverage(q: Question, hit: Hit) -> tuple[float, float]:
    """(weighted share of the question's words the unit covers, share of the subject words it covers)."""
    total = sum(q.terms.values()) or 1.0
    got = 0.0
    subject_total = sum(q.terms[w] for w in q.subject) or 1.0
    subject_got = 0.0
    joined = {
        part: FIELD_WEIGHT[f]
        for c, parts in q.compounds.items()
        for f, words in hit.fields.items()
        if c in words
        for part in parts
    }
    for w, weight in q.terms.items():
        best = max((FIELD_WEIGHT[f] for f, words in hit.fields.items() if w in words), default=joined.get(w, 0.0))
        got += weight * best
        if w in q.subject:
            subject_got += weight * best
    return got / total, (subject_got / subject_total if q.subject else got / total)


def spelled(q: Question, name: str) -> bool:
    """The question writes this identifier itself (`raise_for_status()`, `Undefined`): it is what the question is
    about, so not the name it asks for. Plain lowercase words (`retry`) are English as often as code."""
    if len(name) < 3 or not re.search(rf"(?<!\w){re.escape(name)}(?!\w)", q.text):
        return False
    return "_" in name.strip("_") or not name.islower() or f"{name}(" in q.text


def _norm(name: str) -> str:
    return name.lower().replace("_", "").replace("-", "")


def literal(value: str) -> bool:
    """A value made of constants only (`600`, `("GET",)`, `14 * 24 * 60 * 60`, `'wal'`), not an expression."""
    bare = re.sub(r"\"[^\"]*\"|'[^']*'|`[^`]*`", "", value)
    names = set(re.findall(r"[A-Za-z_]\w*", bare))
    return not names - {"True", "False", "None", "true", "false", "null", "undefined", "f", "b", "r"}


def prior(q: Question, hit: Hit) -> float:
    k = hit.kind
    if q.kind == "version":
        if hit.name.lower() in ("__version__", "version"):
            return 0.35
        return 0.1 if re.search(r"\d+\.\d+", hit.text) else 0.0
    if q.kind == "name":
        if k in ("def", "class"):
            bonus = 0.25
            if _ERROR_Q.search(q.text) and re.search(r"Error|Exception|Warning", hit.context + hit.name):
                bonus += 0.15
            return bonus
        if k == "doc" and hit.scope:
            return 0.15
        return 0.1 if k in ("key", "assign") else 0.0
    if q.kind == "env":
        if re.search(r"environ|getenv|process\.env", hit.text):
            return 0.3
        return 0.15 if _UPPER_NAME.search(hit.text) else 0.0
    if q.kind == "setting":
        return 0.2 if k in ("doc", "md") else -0.2
    if not hit.value:
        return 0.05 if k == "line" and re.search(r"\d", hit.text) else 0.0
    value = hit.value.strip()
    if value in _SENTINELS or value in _EMPTY:
        return -0.1  # "None": the real default is elsewhere
    if q.numeric:  # "how many", "how long", a size or a limit: a number, not a flag or a name
        if value in ("True", "False", "true", "false"):
            return -0.2
        bonus = 0.1 if re.search(r"\d", value) else 0.0
    else:
        bonus = 0.0
    return bonus + _value_prior(hit)


def _value_prior(hit: Hit) -> float:
    k = hit.kind
    if k == "option":
        return 0.35
    if k == "param":
        return 0.3
    if k in ("md", "doc"):
        return 0.25  # prose may lag the code; the line that sets it wins a tie
    if literal(hit.value) or hit.name.isupper():
        return 0.25
    return -0.1  # a value computed from others (`x = a + b`) is seldom what is asked


def _parts(name: str) -> list[str]:
    """The words of a name, without the joined forms `tokens` adds (`max_age` → max, age)."""
    return [t for t in tokens(name) if "_" not in t] if not name.isupper() or "_" in name else tokens(name)


def _sentinel(index: FolderIndex, name: str, memo: dict[str, bool]) -> bool:
    """A constant defined as a bare instance (`USE_CLIENT_DEFAULT = UseClientDefault()`): a marker."""
    if name not in memo:
        memo[name] = any(re.fullmatch(r"\w+\(\)", d.value.strip()) for d in index.definitions(name))
    return memo[name]


_SORTS = {"name": ["def", "class"], "value": ["value"], "version": ["value"], "setting": ["doc", "md"]}


async def rank(q: Question, index: FolderIndex, embed: Embed | None, *, shortlist: int = 48) -> list[Ranked]:
    terms = [*q.terms, *q.compounds]
    sorts = _SORTS.get(q.kind)
    hits: dict[int, Hit] = {}
    for trees in [None, q.trees] if q.trees else [None]:
        for kinds in [None, sorts] if sorts else [None]:
            for h in index.search(terms, trees=trees, sorts=kinds, limit=200):
                hits.setdefault(h.rowid, h)
    seen: set[tuple[str, str, str]] = set()
    memo: dict[str, bool] = {}
    ranked: list[Ranked] = []
    total = sum(q.terms.values()) or 1.0
    for h in sorted(hits.values(), key=lambda h: (h.path, h.line)):
        if (h.path, h.text, h.name) in seen:  # the same line again (overloads, repeated signatures): the first
            continue
        seen.add((h.path, h.text, h.name))
        lex, cov = coverage(q, h)
        parts = set(_parts(h.name)) if h.name else set()
        hit_parts = {w for w in parts if w in q.terms}
        precision = len(hit_parts) / len(parts) if parts else 0.0
        named = precision * min(1.0, 2 * sum(q.terms[w] for w in hit_parts) / total)
        owner = _norm(h.scope.split()[-1].rsplit(".", 1)[-1]) if h.scope else ""
        norm = _norm(h.name)
        exact = (0.2 if len(norm) > 6 or "_" in h.name.strip("_") else 0.1) if h.name and norm in q.idents else 0.0
        exact += 0.1 if h.name and len(h.name) > 3 and re.search(rf"(?<!\w){re.escape(h.name)}(?!\w)", q.text) else 0.0
        exact += 0.15 if len(owner) > 4 and owner in q.idents else 0.0
        public = 0.1 if not re.search(r"(?:^|/)_[a-z]", h.path) else 0.0
        depth = 0.04 * max(0, h.path.count("/") - (2 if h.tree.startswith("node_modules/") else 1))
        pri = prior(q, h)
        if (
            pri > 0
            and h.value
            and _IDENT_VALUE.match(h.value)
            and h.value.isupper()
            and _sentinel(index, h.value, memo)
        ):
            pri = -0.1  # `timeout=USE_CLIENT_DEFAULT`: a marker, not the value
        if q.kind == "name" and h.kind in ("def", "class") and spelled(q, h.name):
            exact, pri = 0.0, -0.2  # "which exception does `raise_for_status()` raise": not raise_for_status
        score = lex + 0.3 * named + exact + pri + public - depth
        if q.trees and h.tree not in q.trees:
            score *= 0.5
        ranked.append(Ranked(h, lex, cov, score, {"lex": round(lex, 2), "named": round(named, 2), "exact": exact}))
    ranked.sort(key=lambda r: -r.score)
    top = ranked[:shortlist]
    if embed is not None and top:
        labels = [f"{r.hit.path} {r.hit.scope} {r.hit.name}: {flat(r.hit.text)} {r.hit.context[:120]}" for r in top]
        vecs = await embed([q.text, *labels])
        if vecs is not None:
            sims = vecs[1:] @ vecs[0]
            for r, s in zip(top, sims, strict=True):
                r.why["dense"] = float(s)
                r.score += 0.35 * float(s)
            top.sort(key=lambda r: -r.score)
    return top


@dataclass
class Answer:
    headline: str
    cite: list[Hit]  # first: the line the answer comes from
    score: float = 0.0


def flat(text: str) -> str:
    return " ".join(text.split())


def _best_line(q: Question, hit: Hit) -> tuple[int, str]:
    """The line of a sentence unit that holds its value, else most of the question's subject (first on a tie)."""
    pieces = hit.text.split("\n")
    # a unit with a value points at the piece holding it; otherwise at its first piece
    at = next((i for i, piece in enumerate(pieces) if hit.value and hit.value in piece), None)
    first = hit.line - (at or 0)
    if at is not None:
        return hit.line, pieces[at]
    own = set(tokens(hit.name))  # the words naming what the sentence is about say nothing new
    weights = [sum(q.terms[w] for w in set(tokens(p)) if w in q.subject and w not in own) for p in pieces]
    i = max(range(len(pieces)), key=lambda i: (weights[i], -i))
    return first + i, pieces[i]


def _strip_quotes(v: str) -> str:
    v = v.strip().rstrip(",")
    if len(v) >= 2 and v[0] == v[-1] and v[0] in "'\"`":
        return v[1:-1]
    return v


def answer(q: Question, ranked: list[Ranked], index: FolderIndex, *, tries: int = 8) -> Answer | None:
    """The first of the best candidates that gives the kind of answer the question wants; None: abstain."""
    if not ranked or q.unknown:
        return None
    if q.kind == "version" and q.trees:
        found = _version(q, index)
        if found is not None:
            return found
    # a name (a class, an environment variable) is asked for by what it does, in words its definition seldom
    # uses: a lower bar
    floor = max(MIN_SCORE - {"name": 0.1, "env": 0.2}.get(q.kind, 0.0), 0.75 * ranked[0].score)
    # a unit the question names (`reraise`) may cover little else of it, unless a name is asked for: then the
    # named unit is what the question is about, not its answer
    named_ok = q.kind != "name"
    usable = [
        r
        for r in ranked[:tries]
        if r.score >= floor and (r.coverage >= MIN_COVERAGE or (named_ok and r.why["exact"] >= 0.2))
    ]
    if q.kind == "value":  # prose that names a setting vouches for the code that gives its value
        named = {r.hit.name: r.score for r in usable if r.hit.kind in ("doc", "md") and r.hit.name and not r.hit.value}
        backed = [
            Ranked(r.hit, r.lexical, r.coverage, named[r.hit.name] - 0.01, r.why)
            for r in ranked
            if r.hit.value and r.hit.name in named and r not in usable
        ]
        usable = sorted([*usable, *backed], key=lambda r: -r.score)
    # a question after a value takes a unit that states one first, prose about it only when none does
    passes = [True, False] if q.kind == "value" else [False]
    for strict in passes:
        for r in usable:
            if strict and not r.hit.value:
                continue
            found = extract(q, r.hit, index)
            if found is not None:
                found.score = r.score
                return found
    return None


def env_name(text: str) -> str | None:
    """The environment variable a line names: `"PAGER"`, `process.env.NODE_ENV`, `f"_{prog}_COMPLETE".upper()`."""
    m = _UPPER_NAME.search(text)
    if m:
        return next(g for g in m.groups() if g)
    m = _ENV_TEMPLATE.search(text)
    return m.group(1).upper() if m else None


def _version(q: Question, index: FolderIndex) -> Answer | None:
    """The version a named package declares: `__version__` in Python, "version" in package.json."""
    found: list[Hit] = []
    for name in ("__version__", "version", "VERSION"):
        for d in index.definitions(name):
            if d.tree in q.trees and re.match(r"""\s*["'`]?v?\d+(?:\.\d+)+""", d.value):
                if d.path.endswith(".json") and not d.path.endswith("package.json"):
                    continue
                found.append(d)
    if not found:
        return None
    found.sort(key=lambda d: (d.path.count("/"), not d.path.endswith(("__init__.py", "package.json")), d.line))
    d = found[0]
    value = _strip_quotes(d.value.split("=")[-1].strip())
    return Answer(f"{value} — from {d.path}, line {d.line}: `{d.text}`", [d], score=MIN_SCORE)


def extract(q: Question, best: Hit, index: FolderIndex) -> Answer | None:
    """The answer a unit gives to the question and the units to cite (the one the value is on first), or None
    when the unit does not hold the kind of answer asked for (a name, an environment variable, a version)."""
    where = f"{best.path}, line {best.line}"
    shown = f"`{best.text}`" if best.kind not in ("doc", "md") else best.text
    if q.kind == "name":
        if best.name and best.kind in ("def", "class", "key", "assign"):
            return Answer(f"`{best.name}` — from {where}: {shown}", [best])
        raised = re.search(r"\braise\s+([A-Z]\w*)", best.text)
        if raised:  # where it is raised: the exception's class
            d = next((h for h in index.classes(raised.group(1)) if h.tree == best.tree), None)
            if d is not None:
                return Answer(f"`{d.name}` — from {d.path}, line {d.line}: `{d.text}` (raised at {where})", [d, best])
        if best.kind in ("doc", "md"):  # prose that names a class or function: its definition
            for name in dict.fromkeys(_MENTIONED.findall(best.text)):
                d = next((h for h in index.classes(name) if h.tree == best.tree), None)
                if d is not None and not spelled(q, name):
                    return Answer(
                        f"`{d.name}` — from {d.path}, line {d.line}: `{d.text}` ({flat(best.text)})", [d, best]
                    )
        owner = best.scope.split()[-1].rsplit(".", 1)[-1] if best.scope else ""
        d = index.definition_of(best.path, owner, best.line) if owner and best.kind == "doc" else None
        if d is not None and spelled(q, d.name):
            return None
        if d is None:
            return None
        return Answer(f"`{d.name}` — from {d.path}, line {d.line}: `{d.text}` ({best.text})", [d, best])
    if q.kind == "env":
        name = env_name(best.text)
        if name is not None:
            return Answer(f"`{name}` — from {where}: {shown}", [best])
        if best.kind != "doc" or not best.name:
            return None
        # ":param complete_var: Name of the environment variable …": the name the code gives that parameter
        for d in index.definitions(best.name):
            name = env_name(d.text) if d.tree == best.tree else None
            if name is not None:
                return Answer(f"`{name}` — from {d.path}, line {d.line}: `{d.text}` ({flat(best.text)})", [d, best])
        return None
    if q.kind == "version":
        m = re.match(r"""\s*[f]?["'`]?v?(\d+(?:\.\d+)+[\w.\-]*)""", best.value)
        if not m:
            m = (
                re.search(r"(?i)(?:node(?:\.js)?|python|version)\s+v?(\d+(?:\.\d+)*)", best.text)
                if best.kind == "md"
                else None
            )
        if not m:
            return None
        return Answer(f"{m.group(1)} — from {where}: {shown}", [best])
    if q.kind == "value" and not best.value and best.kind not in ("doc", "md", "line"):
        return None  # a definition or a name states no value
    if best.kind in ("doc", "md") and "\n" in best.text:
        line, _ = _best_line(q, best)
        where = f"{best.path}, line {line}"
        best = dataclasses.replace(best, line=line)
    if q.kind == "setting" and best.kind not in ("doc", "md"):
        return None  # what a setting does is said in prose, not in the line that sets it
    if q.kind in ("setting",) or (best.kind in ("doc", "md") and not best.value):
        text = flat(best.text)
        following = [h for h in index.around(best.path, best.end + 1, best.end + 3) if h.kind == best.kind]
        if following and best.kind == "doc" and following[0].name == best.name and len(text) < 200:
            text = f"{text} {flat(following[0].text)}"
        return Answer(f"From {where}: {text}", [best])
    shown = f"`{best.text}`" if best.kind not in ("doc", "md") else flat(best.text)
    value = _strip_quotes(best.value) if best.value else ""
    if value and _IDENT_VALUE.match(value) and value.rsplit(".", 1)[-1].isupper():  # a constant: its value
        target = value.removesuffix("()").rsplit(".", 1)[-1]
        defs = [d for d in index.definitions(target) if d.value and d.rowid != best.rowid]
        defs.sort(key=lambda d: (d.tree != best.tree, d.path != best.path, d.scope != ""))
        if defs:
            d = defs[0]
            return Answer(
                f"{_strip_quotes(d.value)} — from {d.path}, line {d.line}: `{d.text}` "
                f"({best.name or 'the default'} is `{value}`, {where}: `{best.text}`)",
                [d, best],
            )
    if value:
        return Answer(f"{value} — from {where}: {shown}", [best])
    return Answer(f"From {where}: {shown}", [best])
