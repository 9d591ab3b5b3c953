"""Candidate names from keywords: compounds, blends, affixed forms, acronyms, related words, and slugs.

Usage:
    python3 names.py < request.txt

Keywords come from quotes/backticks, a "keywords: a, b, c" list, or the content words of the request
("name ideas for a tool that tracks cloud budgets"). Options in words: "20 names" (how many to rank),
"short" (at most 8 letters), "python package" / "npm" (checks package-name rules), "no blends" etc. are not
needed - every section is always shown. Deterministic: the same request gives the same list. Availability of
domains, packages or trademarks is NOT checked (no network). Exit 2 (one sentence) when no keyword is found.
"""

from __future__ import annotations

import itertools
import re
import sys

_STOP_WORDS = """a an the and or of for to in on at by with from into about as is are be it its this that these
    those my our your their me we you i name names naming ideas idea suggest suggestions give some few list
    brainstorm come up
    candidate candidates called call good cool catchy short unique new please help want need like would could can
    should make create something thing app application tool project product company startup service platform
    package library repo repository brand business website site keywords keyword words word based using use
    which what how who where when get got do does let lets want wants let's some any one two three four five
    ten twenty more most very really just also that's them they it's plus maybe combining combine combined mixing
    mix around related acronym acronyms catchy memorable repo repos domain domains handle title titles"""
STOP = set(_STOP_WORDS.split())
RELATED = {
    "budget": ["cash", "coin", "spend", "ledger", "penny"], "money": ["cash", "coin", "fund", "mint"],
    "finance": ["fund", "ledger", "mint", "capital"], "cloud": ["sky", "nimbus", "stratus", "cirrus"],
    "track": ["trace", "trail", "scout", "log"], "tracker": ["trace", "scout", "radar", "log"],
    "data": ["bit", "byte", "datum", "insight"], "fast": ["swift", "rapid", "zip", "dash"],
    "quick": ["swift", "zip", "dash", "snap"], "speed": ["swift", "rapid", "turbo", "dash"],
    "secure": ["vault", "shield", "guard", "fort"], "security": ["vault", "shield", "guard", "sentry"],
    "health": ["vital", "well", "pulse", "care"], "fitness": ["fit", "pulse", "stride", "vigor"],
    "food": ["dish", "bite", "feast", "plate"], "recipe": ["dish", "cook", "plate", "spice"],
    "travel": ["trip", "voyage", "roam", "trek"], "learn": ["study", "skill", "mentor", "sage"],
    "learning": ["study", "skill", "mentor", "sage"], "task": ["todo", "chore", "job", "step"],
    "time": ["clock", "tempo", "hour", "tick"], "green": ["leaf", "sprout", "verde", "grove"],
    "eco": ["leaf", "sprout", "terra", "grove"], "code": ["dev", "byte", "script", "stack"],
    "bug": ["glitch", "fix", "patch", "debug"], "chat": ["talk", "chatter", "buzz", "echo"],
    "music": ["tune", "beat", "chord", "melody"], "photo": ["snap", "pixel", "lens", "frame"],
    "home": ["nest", "hearth", "den", "haven"], "pet": ["paw", "fur", "tail", "whisker"],
    "book": ["page", "tome", "shelf", "read"], "market": ["bazaar", "trade", "shop", "stall"],
    "shop": ["store", "cart", "stall", "market"], "team": ["crew", "squad", "guild", "tribe"],
    "plan": ["map", "chart", "blueprint", "route"], "garden": ["bloom", "sprout", "grove", "seed"],
    "energy": ["volt", "spark", "charge", "flux"], "water": ["aqua", "wave", "tide", "brook"],
    "ai": ["mind", "neural", "cortex", "brain"], "smart": ["bright", "sage", "clever", "wise"],
    "game": ["play", "quest", "arcade", "level"], "news": ["brief", "herald", "dispatch", "wire"],
    "note": ["memo", "jot", "scribe", "page"], "notes": ["memo", "jot", "scribe", "page"],
    "calendar": ["date", "agenda", "slot", "day"], "weather": ["sky", "storm", "breeze", "front"],
}  # fmt: skip
PREFIXES = ["get", "try", "go", "my", "hey", "use"]
SUFFIXES = ["ly", "ify", "io", "hub", "lab", "kit", "base", "flow", "wise", "stack", "works", "hq"]
VOWELS = set("aeiouy")


class Refusal(Exception):
    """The request cannot be handled; the message is one sentence for the user."""


def cap(w: str) -> str:
    return w[:1].upper() + w[1:]


def pronounceable(name: str) -> float:
    """0..1: vowel share near 40%, no long consonant or vowel runs, no awkward letter pairs."""
    n = name.lower()
    letters = [c for c in n if c.isalpha()]
    if not letters:
        return 0.0
    share = sum(c in VOWELS for c in letters) / len(letters)
    score = 1.0 - min(1.0, abs(share - 0.4) * 2)
    runs = re.findall(r"[^aeiouy]{4,}|[aeiou]{3,}", n)
    score -= 0.3 * len(runs)
    if re.search(r"(.)\1\1", n):
        score -= 0.3
    return max(0.0, score)


def rank_key(name: str) -> tuple[float, str]:
    n = len(name)
    length = 1.0 if 5 <= n <= 10 else 0.6 if 4 <= n <= 13 else 0.2
    return (-(length + pronounceable(name)), name.lower())


def blends(a: str, b: str) -> list[str]:
    """Portmanteaus of a then b: an overlap (data+taxi -> dataxi) or a shared letter (cloud+budget -> cloudget)."""
    out = []
    for k in range(min(len(a), len(b)) - 1, 0, -1):  # overlap of a's end and b's start
        if a.endswith(b[:k]) and len(a) + len(b) - k >= 4:
            out.append(a + b[k:])
            break
    for i in range(max(1, len(a) - 3), len(a)):  # a shared letter near a's end and b's start
        for j in range(min(3, len(b) - 2)):
            if a[i] == b[j] and i >= 2:
                cand = a[: i + 1] + b[j + 1 :]
                if 4 <= len(cand) <= 12 and cand not in (a, b):
                    out.append(cand)
    cut_a = re.match(r"^[^aeiouy]*[aeiouy]+[^aeiouy]", a)  # first syllable of a + b
    if cut_a and len(cut_a.group(0)) < len(a) and len(b) >= 3:
        out.append(cut_a.group(0) + b)
    return list(dict.fromkeys(cap(x) for x in out if x.isalpha()))


def good_blend(x: str, a: str, b: str) -> bool:
    """Pronounceable, and no doubled letter at the seam that neither word has (dattaxi, traccloud)."""
    low = x.lower()
    doubles = {m.group(0) for m in re.finditer(r"(.)\1", low)}
    return pronounceable(x) >= 0.45 and all(d in a or d in b for d in doubles)


def shorten(w: str) -> list[str]:
    return [w[:-2] + "r"] if w.endswith("er") and len(w) > 4 else []  # tracker -> trackr


def stem(w: str) -> str:
    """tracks -> track, watering -> water, sharing -> share, running -> run, stories -> story."""
    if len(w) > 5 and w.endswith("ing"):
        base = w[:-3]
        if len(base) >= 3 and base[-1] == base[-2] and base[-1] not in "ls":
            return base[:-1]
        if len(base) <= 4 and base[-1] not in VOWELS and base[-2] in VOWELS and base[-3:-2] not in ("", *VOWELS):
            return base + "e"
        return base
    if len(w) > 4 and w.endswith("ies"):
        return w[:-3] + "y"
    if len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        return w[:-1]
    return w


def extract(text: str) -> tuple[list[str], str]:
    """(keywords, the phrase they came from)."""
    quoted = re.findall(r"\"([^\"\n]{1,40})\"|`([^`\n]{1,40})`|\u201c([^\u201d\n]{1,40})\u201d", text)
    words = [next(g for g in q if g) for q in quoted]
    m = re.search(r"\b(?:keywords?|words?|themes?|terms?)\s*[:=]\s*([^\n.;]+)", text, re.I)
    if m:
        words += re.split(r"\s*,\s*|\s+and\s+|\s*/\s*|\s*\+\s*|\s+", m.group(1).strip())
    if not words:  # a Title Case phrase is taken whole: "Customer Support Automation Platform"
        titled = re.search(r"(?<!^)(?<![.!?]\s)\b((?:[A-Z][a-z]+\s+){1,5}[A-Z][a-z]+)\b", text.strip())
        if titled:
            return [w.lower() for w in titled.group(1).split()][:6], titled.group(1)
    if not words:
        body = re.sub(r"https?://\S+", " ", text)
        words = re.findall(r"[A-Za-z][A-Za-z'-]*", body)
    clean: list[str] = []
    for w in words:
        for part in re.split(r"[\s_-]+", w.strip()):
            p = re.sub(r"[^A-Za-z0-9]", "", part).lower()
            if len(p) >= 2 and p not in STOP and not p.isdigit() and p not in clean:
                clean.append(p)
    return clean[:6], " ".join(clean[:6])


def package_ok(name: str) -> tuple[bool, bool]:
    """(valid on PyPI after normalization, valid as an npm name)."""
    pypi = re.fullmatch(r"[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?", name) is not None
    npm = re.fullmatch(r"[a-z0-9][a-z0-9._~-]*", name) is not None and len(name) <= 214
    return pypi, npm


def idents(words: list[str]) -> dict[str, str]:
    return {
        "kebab": "-".join(words),
        "snake": "_".join(words),
        "camel": words[0] + "".join(cap(w) for w in words[1:]),
        "Pascal": "".join(cap(w) for w in words),
        "CONSTANT": "_".join(w.upper() for w in words),
    }


def split_name(name: str) -> list[str]:
    parts = re.findall(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])", name)
    return [p.lower() for p in parts] or [name.lower()]


def main() -> int:
    try:
        text = sys.stdin.buffer.read().decode("utf-8", "replace")
    except (OSError, ValueError):
        text = ""
    text = re.sub(
        r"\b(?:python|pypi|npm|node|javascript|js|typescript|rust|go|ruby|java)\s+(?=(?:package|library|module|crate"
        r"|gem|cli|tool|app|sdk)s?\b)",
        " ",
        text,
        flags=re.I,
    )
    keys, _ = extract(text)
    keys = list(dict.fromkeys(stem(k) for k in keys))
    if not keys:
        raise Refusal(
            'Give two or three keywords, e.g. \'name ideas for: cloud, budget, tracker\' or names from "data" "taxi".'
        )
    m = re.search(r"\b(\d{1,3})\s+(?:names|ideas|options|candidates|suggestions)\b", text, re.I)
    want = max(5, min(100, int(m.group(1)))) if m else 30
    short = re.search(r"\bshort\b|\bbrief\b|\bone[- ]word\b", text, re.I) is not None
    max_len = 8 if short else 14
    related = {k: RELATED[k] for k in keys if k in RELATED}

    compounds: list[str] = []
    for a, b in itertools.permutations(keys, 2):
        compounds.append(cap(a) + cap(b))
    if len(keys) >= 3:
        compounds.append("".join(cap(k) for k in keys[:3]))
    blended: list[tuple[str, str]] = []
    for a, b in itertools.permutations(keys, 2):
        for x in blends(a, b):
            if good_blend(x, a, b):
                blended.append((x, f"{a} + {b}"))
    affixed: list[str] = []
    for k in keys:
        for s in SUFFIXES:
            base = k[:-1] if k.endswith("e") and s[0] in "aeiouy" else k
            base = base[:-1] if base.endswith("y") and s in ("ify", "ly") else base
            affixed.append(cap(base) + s)
        for p in PREFIXES:
            affixed.append(cap(p) + cap(k))
        affixed += [cap(x) for x in shorten(k)]
    with_related: list[tuple[str, str]] = []
    for k, rel in related.items():
        others = [o for o in keys if o != k]
        for r in rel:
            for o in others[:2]:
                with_related.append((cap(r) + cap(o), f"{r} (for {k}) + {o}"))
                with_related.append((cap(o) + cap(r), f"{o} + {r} (for {k})"))
            for x in blends(r, others[0]) if others else []:
                if good_blend(x, r, others[0]):
                    with_related.append((x, f"{r} (for {k}) + {others[0]}"))

    def keep(name: str) -> bool:
        return 3 <= len(name) <= max_len

    def top(items: list[str], n: int) -> list[str]:
        return sorted(dict.fromkeys(x for x in items if keep(x)), key=rank_key)[:n]

    def top_pairs(items: list[tuple[str, str]], n: int) -> list[tuple[str, str]]:
        seen: dict[str, str] = {}
        for name, why in items:
            if keep(name) and name.lower() not in (s.lower() for s in seen):
                seen[name] = why
        return sorted(seen.items(), key=lambda kv: rank_key(kv[0]))[:n]

    per = max(4, want // 4)
    sec_compounds = top(compounds, per)
    sec_blends = top_pairs(blended, per)
    sec_affixed = top(affixed, per)
    sec_related = top_pairs(with_related, per)
    acronyms: list[str] = []
    if len(keys) >= 2:
        initials = "".join(k[0] for k in keys).upper()
        acronyms.append(f"{initials} ({' '.join(cap(k) for k in keys)})")
        syll = "".join(cap(k[:2]) for k in keys[:3])
        acronyms.append(f"{syll} ({' + '.join(k[:2] for k in keys[:3])})")
        if len(keys) >= 3:
            full = " ".join(cap(k) for k in keys[:3])
            acronyms.append(f"{''.join(k[0] for k in keys[:2]).upper()}{cap(keys[2])} ({full})")

    sections = [sec_compounds, [n for n, _ in sec_blends], [n for n, _ in sec_related], sec_affixed]
    picks: list[str] = []
    for rnd in range(3):  # the best of each section in turn, so the picks are varied
        for sec in sections:
            ranked = sorted(sec, key=rank_key)
            if rnd < len(ranked) and ranked[rnd] not in picks and len(picks) < 5:
                picks.append(ranked[rnd])
    out = [f"# Name ideas from: {', '.join(keys)}", ""]
    if short:
        out.append("Short names only (at most 8 letters).")
        out.append("")
    out.append("## Top picks (short, pronounceable)")
    out.append(" · ".join(f"**{p}**" for p in picks) if picks else "(none within the length limit)")
    out.append("")
    if sec_compounds:
        out.append("## Compounds")
        out.append(" · ".join(sec_compounds))
        out.append("")
    if sec_blends:
        out.append("## Blends (portmanteaus)")
        out += [f"- {n} ({why})" for n, why in sec_blends]
        out.append("")
    if sec_affixed:
        out.append("## With prefixes and suffixes")
        out.append(" · ".join(sec_affixed))
        out.append("")
    if sec_related:
        out.append("## With related words (built-in word list)")
        out += [f"- {n} ({why})" for n, why in sec_related]
        out.append("")
    if acronyms:
        out.append("## Acronyms")
        out += [f"- {a}" for a in acronyms]
        out.append("")
    out.append("## Identifiers")
    out.append("| name | kebab-case | snake_case | camelCase | PyPI / npm | domain ideas |")
    out.append("|---|---|---|---|---|---|")
    rows = [keys[:3]] + [split_name(p) for p in picks[:4]]
    shown_rows = []
    for words in rows:
        if words in shown_rows:
            continue
        shown_rows.append(words)
        ids = idents(words)
        flat = "".join(words)
        pypi, npm = package_ok(ids["kebab"])
        domains = ", ".join(f"{flat}.{tld}" for tld in ("com", "dev", "io"))
        out.append(
            f"| {ids['Pascal']} | `{ids['kebab']}` | `{ids['snake']}` | `{ids['camel']}` | "
            f"{'ok' if pypi else 'invalid'} / {'ok' if npm else 'invalid'} | {domains} |"
        )
    out.append("")
    out.append(
        "Before choosing: search the name with the registries (PyPI, npm, GitHub), domain registrars and trademark "
        "databases - availability is not checked here. A model can add names by meaning (metaphors, other languages)."
    )
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    try:
        status = main()
    except Refusal as exc:
        print(exc)
        status = 2
    except Exception as exc:  # a bug: one line, never a traceback
        print(f"names.py failed unexpectedly: {type(exc).__name__}: {exc}")
        status = 1
    sys.exit(status)
