"""Estimate how strong a password is: entropy, guessable patterns, rough crack times and advice.

Usage:
    echo 'how strong is `Summer2024!`' | python3 scripts/password_strength.py

The password goes in backticks, double quotes or single quotes (several may be compared at once); "password: xyz"
works too. The estimate splits the password into the cheapest explanation an attacker's guesser would find:
common passwords and words (also with l33t substitutions and capitals), keyboard walks (qwerty, 1qaz2wsx),
sequences (abcd, 4321), repeats (aaaa, abcabc), years and dates, and brute force for the rest. It is an offline
estimate: it does not look the password up in breach lists.

The password is never printed: the output shows it masked (first and last character) with a map of its parts.
Exit 0 with a Markdown report; exit 2 when no password is found in the request.
"""

# The report prints typographic signs (multiplication, minus, en dash) on purpose.
# ruff: noqa: RUF001

from __future__ import annotations

import math
import re
import sys

# The most common passwords in public breach-frequency lists, roughly by rank (a small built-in sample).
_PASSWORDS_TEXT = """123456 password 123456789 12345678 12345 qwerty 1234567 111111 1234567890 123123 abc123 1234
password1 iloveyou 1q2w3e4r 000000 qwerty123 zaq12wsx dragon sunshine princess letmein 654321 monkey 27653 1qaz2wsx
123321 qwertyuiop superman asdfghjkl football baseball welcome shadow master trustno1 michael jennifer jordan
hunter freedom whatever qazwsx passw0rd starwars computer charlie batman access killer pokemon soccer hello
harley ranger buster thomas tigger robert daniel hockey george maggie ginger cookie summer winter flower love
secret admin administrator root toor changeme default guest test test123 login pass pass123 welcome1 letmein1
azerty matrix mustang cheese pepper hannah jessica ashley nicole amanda andrew joshua chelsea arsenal liverpool
blink182 samsung google apple orange banana chocolate butterfly purple angel lovely family friends forever
"""
COMMON_PASSWORDS = _PASSWORDS_TEXT.split()

# Frequent English words and names that show up inside passwords (a small built-in list, not a dictionary).
_WORDS_TEXT = """love baby angel happy honey money sweet lucky magic super star moon sun sky blue red green black
white gold silver dark light fire water ice snow rain storm wind summer winter spring autumn fall monday friday
january february march april may june july august september october november december house home family
friend heart life live dream hope faith peace power king queen prince lord god jesus christ devil demon ninja
dragon tiger lion eagle wolf bear shark horse puppy kitty cat dog bird fish monkey rabbit panda spider
football soccer hockey tennis golf music rock metal guitar piano dance party beach ocean river mountain forest
flower rose lily daisy apple banana cherry lemon orange mango pizza coffee beer whisky cookie candy sugar
secret private hidden master admin user login guest account office work school college student teacher
computer laptop phone internet google yahoo email system server network cyber hacker gamer player game
welcome hello goodbye thanks please sorry correct horse battery staple company password letmein
michael david john james robert william richard thomas daniel matthew andrew joseph charles chris anna maria
sarah jessica ashley emily emma olivia sophia laura linda susan lisa karen nancy alex sam max jack charlie
"""
COMMON_WORDS = _WORDS_TEXT.split()

KEYBOARD_ROWS = ["`1234567890-=", "qwertyuiop[]\\", "asdfghjkl;'", "zxcvbnm,./"]
SHIFTED_ROWS = ["~!@#$%^&*()_+", "QWERTYUIOP{}|", 'ASDFGHJKL:"', "ZXCVBNM<>?"]
LEET = {
    "4": "a",
    "@": "a",
    "8": "b",
    "(": "c",
    "3": "e",
    "6": "g",
    "1": "i",
    "!": "i",
    "|": "l",
    "0": "o",
    "$": "s",
    "5": "s",
    "7": "t",
    "+": "t",
    "2": "z",
    "9": "g",
}
GUESS_RATES = [
    ("online, throttled (100 guesses/hour)", 100 / 3600),
    ("online, unthrottled (10 guesses/s)", 10),
    ("offline, slow hash (bcrypt; 10⁴/s)", 1e4),
    ("offline, fast hash (MD5/SHA-1 on GPUs; 10¹⁰/s)", 1e10),
]


class Refusal(Exception):
    """No password in the request; the message says how to give one."""


def rank_table(words: list[str]) -> dict[str, int]:
    table: dict[str, int] = {}
    for i, w in enumerate(words, start=1):
        table.setdefault(w.lower(), i)
    return table


PASSWORD_RANK = rank_table(COMMON_PASSWORDS)
SHORT_WORDS = {"cat", "dog", "sun", "sky", "red", "ice", "god", "sam", "max"}
WORD_RANK = rank_table(COMMON_WORDS)


def adjacency() -> dict[str, set[str]]:
    """Neighbouring keys on a US QWERTY keyboard (same row, and the rows above and below), shifted or not."""
    adj: dict[str, set[str]] = {}
    for rows in (KEYBOARD_ROWS, SHIFTED_ROWS):
        for r, row in enumerate(rows):
            for c, ch in enumerate(row):
                near = adj.setdefault(ch, set())
                for dr, dc in ((0, -1), (0, 1), (-1, 0), (-1, 1), (1, 0), (1, -1)):
                    rr, cc = r + dr, c + dc
                    if 0 <= rr < len(rows) and 0 <= cc < len(rows[rr]):
                        near.add(rows[rr][cc])
    for a, b in zip("".join(KEYBOARD_ROWS), "".join(SHIFTED_ROWS), strict=False):
        adj.setdefault(a, set()).update(adj.get(b, set()))
        adj.setdefault(b, set()).update(adj.get(a, set()))
    return adj


ADJ = adjacency()


# ------------------------------------------------------------------------------------------------ finding the password


def passwords_in(text: str) -> list[str]:
    found: list[str] = []
    for pat in (r"`([^`\n]+)`", r"\"([^\"\n]+)\"", r"“([^”\n]+)”", r"(?:(?<=\s)|^)'([^'\n]+)'(?=[\s.,;:!?)]|$)"):
        for m in re.finditer(pat, text):
            value = m.group(1)
            if value not in found:
                found.append(value)
        if found:
            return found
    m = re.search(r"(?i)\b(?:password|passphrase|pwd|pass)\s*(?:is|=|:)\s*(\S+)\s*$", text.strip())
    if m:
        return [m.group(1)]
    raise Refusal("Put the password in backticks or quotes, e.g. check `Tr0ub4dor&3` (it is never shown back in full).")


# ------------------------------------------------------------------------------------------------ patterns


class Match:
    def __init__(self, i: int, j: int, kind: str, bits: float, label: str) -> None:
        self.i, self.j, self.kind, self.bits, self.label = i, j, kind, bits, label


def unleet(s: str) -> tuple[str, int]:
    out = []
    subs = 0
    for ch in s:
        low = ch.lower()
        if low in LEET:
            out.append(LEET[low])
            subs += 1
        else:
            out.append(low)
    return "".join(out), subs


def case_bits(s: str) -> float:
    letters = [c for c in s if c.isalpha()]
    if not letters or s.islower():
        return 0.0
    upper = sum(c.isupper() for c in letters)
    if s[0].isupper() and upper == 1:
        return 1.0  # Capitalised
    if upper == len(letters):
        return 1.0  # ALL CAPS
    return min(len(letters), math.log2(math.comb(len(letters), upper)) + 1)


def dictionary_matches(pw: str) -> list[Match]:
    out: list[Match] = []
    n = len(pw)
    for i in range(n):
        for j in range(i + 3, min(n, i + 24) + 1):
            piece = pw[i:j]
            low = piece.lower()
            plain, subs = unleet(piece)
            for candidate, leet in ((low, 0), (plain, subs)):
                if leet and candidate == low:
                    continue
                rank = PASSWORD_RANK.get(candidate)
                kind = "common password"
                if rank is None and (len(candidate) >= 4 or candidate in SHORT_WORDS):
                    rank = WORD_RANK.get(candidate)
                    kind = "common word"
                    if rank is not None:
                        rank += 200  # words are tried after the top passwords
                if rank is None:
                    continue
                bits = math.log2(rank + 1) + case_bits(piece)
                if leet:
                    bits += min(leet, 3)
                label = kind + (", capitals" if case_bits(piece) else "") + (", l33t substitutions" if leet else "")
                out.append(Match(i, j, "word", bits, label))
    return out


def keyboard_matches(pw: str) -> list[Match]:
    out: list[Match] = []
    n = len(pw)
    i = 0
    while i < n - 2:
        j = i + 1
        turns = 0
        direction = None
        while j < n and pw[j] in ADJ.get(pw[j - 1], set()) and pw[j] != pw[j - 1]:
            d = (keypos(pw[j])[0] - keypos(pw[j - 1])[0], keypos(pw[j])[1] - keypos(pw[j - 1])[1])
            if d != direction:
                turns += 1
                direction = d
            j += 1
        if j - i >= 4 or (j - i == 3 and turns == 1):
            length = j - i
            bits = math.log2(47 * 4) + math.log2(length) + turns * 1.5
            out.append(Match(i, j, "keyboard", bits, f"keyboard walk ({turns} turn{'s' if turns != 1 else ''})"))
            i = j
        else:
            i += 1
    return out


def keypos(ch: str) -> tuple[int, int]:
    for rows in (KEYBOARD_ROWS, SHIFTED_ROWS):
        for r, row in enumerate(rows):
            c = row.find(ch)
            if c >= 0:
                return r, c
    return -9, -9


def sequence_matches(pw: str) -> list[Match]:
    out: list[Match] = []
    n = len(pw)
    i = 0
    while i < n - 2:
        step = ord(pw[i + 1]) - ord(pw[i])
        j = i + 1
        if step in (-1, 1, -2, 2):
            while j < n and ord(pw[j]) - ord(pw[j - 1]) == step and same_class(pw[j], pw[i]):
                j += 1
        if j - i >= 3:
            base = 3.3 if pw[i].isdigit() else 4.7
            out.append(
                Match(
                    i, j, "sequence", base + math.log2(j - i) + 1, "sequence (" + ("up" if step > 0 else "down") + ")"
                )
            )
            i = j
        else:
            i += 1
    return out


def same_class(a: str, b: str) -> bool:
    return (a.isdigit() and b.isdigit()) or (a.islower() and b.islower()) or (a.isupper() and b.isupper())


def repeat_matches(pw: str, brute) -> list[Match]:
    out: list[Match] = []
    n = len(pw)
    for i in range(n):
        for size in range(1, (n - i) // 2 + 1):
            unit = pw[i : i + size]
            k = 1
            while pw[i + k * size : i + (k + 1) * size] == unit:
                k += 1
            if k >= 2 and (size > 1 or k >= 3):
                j = i + k * size
                out.append(
                    Match(
                        i,
                        j,
                        "repeat",
                        brute(unit) + math.log2(k),
                        f"{size}-character chunk repeated {k}×" if size > 1 else f"one character repeated {k}×",
                    )
                )
    return out


def year_date_matches(pw: str) -> list[Match]:
    out: list[Match] = []
    for m in re.finditer(r"(?=((?:19|20)\d{2}))", pw):
        year = int(m.group(1))
        if 1900 <= year <= 2039:
            out.append(Match(m.start(1), m.start(1) + 4, "year", math.log2(140), "year"))
    for m in re.finditer(r"(?=(\d{6}|\d{8}))", pw):
        s = m.group(1)
        if looks_like_date(s):
            out.append(Match(m.start(1), m.start(1) + len(s), "date", math.log2(365 * 100), "date"))
    for m in re.finditer(r"(?=(\d{1,2}[/.-]\d{1,2}[/.-](?:\d{2}|\d{4})))", pw):
        s = m.group(1)
        out.append(Match(m.start(1), m.start(1) + len(s), "date", math.log2(365 * 100) + 1, "date"))
    return out


def looks_like_date(s: str) -> bool:
    if len(s) == 8:
        for y, rest in ((s[:4], s[4:]), (s[4:], s[:4])):
            if 1900 <= int(y) <= 2039:
                a, b = int(rest[:2]), int(rest[2:])
                if (1 <= a <= 12 and 1 <= b <= 31) or (1 <= b <= 12 and 1 <= a <= 31):
                    return True
        return False
    a, b, c = int(s[:2]), int(s[2:4]), int(s[4:])
    return (1 <= a <= 31 and 1 <= b <= 12) or (1 <= a <= 12 and 1 <= b <= 31) or (c <= 12 and 1 <= b <= 31)


def char_pool(ch: str) -> int:
    if ch.islower():
        return 26
    if ch.isupper():
        return 26
    if ch.isdigit():
        return 10
    if ch == " ":
        return 1 + 32
    if ord(ch) < 128:
        return 33
    return 100


def analyse(pw: str) -> dict:
    n = len(pw)

    def brute(s: str) -> float:
        return sum(math.log2(char_pool(c)) for c in s)

    matches = dictionary_matches(pw) + keyboard_matches(pw) + sequence_matches(pw) + year_date_matches(pw)
    matches += repeat_matches(pw, brute)
    # cheapest split: best[j] = bits to explain pw[:j]
    best = [0.0] + [math.inf] * n
    back: list[Match | None] = [None] * (n + 1)
    for j in range(1, n + 1):
        c = pw[j - 1]
        cand = best[j - 1] + math.log2(char_pool(c))
        if cand < best[j]:
            best[j], back[j] = cand, Match(j - 1, j, "brute", math.log2(char_pool(c)), "random")
        for m in matches:
            if m.j == j and best[m.i] + m.bits + 1 < best[j]:
                best[j], back[j] = best[m.i] + m.bits + 1, m
    parts: list[Match] = []
    j = n
    while j > 0:
        m = back[j]
        assert m is not None
        parts.append(m)
        j = m.i
    parts.reverse()
    merged: list[Match] = []
    for m in parts:
        if m.kind == "brute" and merged and merged[-1].kind == "brute":
            merged[-1] = Match(merged[-1].i, m.j, "brute", merged[-1].bits + m.bits, "random")
        else:
            merged.append(m)
    pattern_bits = best[n]
    classes = {
        "lower": any(c.islower() for c in pw),
        "upper": any(c.isupper() for c in pw),
        "digit": any(c.isdigit() for c in pw),
        "symbol": any(not c.isalnum() and ord(c) < 128 for c in pw),
        "other": any(ord(c) >= 128 for c in pw),
    }
    pool = (
        26 * classes["lower"]
        + 26 * classes["upper"]
        + 10 * classes["digit"]
        + 33 * classes["symbol"]
        + 100 * classes["other"]
    )
    naive = n * math.log2(pool) if pool else 0.0
    whole = PASSWORD_RANK.get(pw.lower()) or PASSWORD_RANK.get(unleet(pw)[0])
    return {
        "parts": merged,
        "bits": min(pattern_bits, naive),
        "naive": naive,
        "pool": pool,
        "classes": classes,
        "whole_common": whole,
    }


# ------------------------------------------------------------------------------------------------ output


def mask(pw: str) -> str:
    if len(pw) <= 4:
        return "•" * len(pw)
    if len(pw) > 64:
        return pw[0] + "•" * 30 + f"…({len(pw)} chars)…" + pw[-1]
    return pw[0] + "•" * (len(pw) - 2) + pw[-1]


LETTER = {"word": "w", "keyboard": "k", "sequence": "s", "repeat": "r", "year": "y", "date": "d", "brute": "?"}


def duration(seconds: float) -> str:
    if seconds < 1:
        return "instant"
    for unit, size in (
        ("centuries", 3.15576e9),
        ("years", 3.15576e7),
        ("days", 86400),
        ("hours", 3600),
        ("minutes", 60),
    ):
        if seconds >= size:
            value = seconds / size
            if unit == "centuries" and value >= 1e6:
                return "longer than the age of the universe" if value >= 1.4e8 else f"{value:.1e} centuries"
            return f"{value:.0f} {unit}" if value >= 10 else f"{value:.1f} {unit}"
    return f"{seconds:.0f} seconds"


def count(x: float) -> str:
    if x < 1e6:
        return f"{x:,.0f}"
    mantissa, exponent = f"{x:.1e}".split("e+")
    return f"{mantissa} × 10^{int(exponent)}"


def verdict(bits: float) -> tuple[str, int]:
    for limit, name, score in ((28, "very weak", 0), (36, "weak", 1), (60, "fair", 2), (80, "strong", 3)):
        if bits < limit:
            return name, score
    return "very strong", 4


def advice(pw: str, a: dict) -> list[str]:
    tips: list[str] = []
    kinds = {p.kind for p in a["parts"]}
    if a["whole_common"]:
        tips.append("It is one of the most common passwords: it is in every attacker's first list. Replace it now.")
    if len(pw) < 12:
        tips.append(f"It is {len(pw)} characters; use at least 12 (16+ for accounts that matter).")
    if "word" in kinds:
        leet = any("l33t" in p.label for p in a["parts"])
        tips.append(
            "Common words and names are guessed first"
            + (
                ", and swapping letters for look-alike symbols (a→@, o→0) adds almost nothing: guessers try "
                "those swaps too."
                if leet
                else "; a word is worth a few bits, not one bit per letter."
            )
        )
    if "year" in kinds or "date" in kinds:
        tips.append("Years and dates (birthdays, the current year) are among the first things guessers append.")
    if "keyboard" in kinds or "sequence" in kinds:
        tips.append("Keyboard walks and sequences (qwerty, 1qaz, 1234, abcd) are in every cracking rule set.")
    if "repeat" in kinds:
        tips.append("Repeated characters or chunks add very little over a single copy.")
    if (
        a["parts"]
        and a["parts"][-1].kind == "brute"
        and a["parts"][-1].j - a["parts"][-1].i <= 2
        and len(a["parts"]) > 1
    ):
        tips.append("A digit or symbol tacked on at the end is the first mutation guessers try.")
    if verdict(a["bits"])[1] < 3:
        tips.append(
            "Better: a passphrase of 4–6 random words from a generator (e.g. Diceware) or a random "
            "password from a password manager, different for every site."
        )
    tips.append("Turn on two-factor authentication where you can; it protects even a leaked password.")
    return tips


def report(pw: str) -> list[str]:
    a = analyse(pw)
    bits = a["bits"]
    name, score = verdict(bits)
    classes = ", ".join(k for k, v in a["classes"].items() if v) or "none"
    pmap = "".join(LETTER[p.kind] * (p.j - p.i) for p in a["parts"])
    out = [
        f"## Password `{mask(pw)}` — **{name}** ({score}/4)",
        "",
        "| measure | value |",
        "|---|---|",
        f"| length | {len(pw)} characters |",
        f"| character classes | {classes} (pool of {a['pool']}) |",
        f"| naive entropy (length × log2 pool) | {a['naive']:.1f} bits |",
        f"| pattern-aware estimate | **{bits:.1f} bits** (≈ {count(2**bits)} guesses) |",
        "",
    ]
    if a["whole_common"]:
        out.append(
            f"**The whole password is on the built-in list of most common passwords** (rank ~{a['whole_common']})."
        )
        out.append("")
    out.append(
        "Parts found"
        + (" (map: w word, k keyboard walk, s sequence, r repeat, y year, d date, ? random):" if len(pw) <= 64 else ":")
    )
    out += ["", "```", mask(pw), pmap, "```", ""] if len(pw) <= 64 else [""]
    out += ["| characters | pattern | cost |", "|---|---|---|"]
    for p in a["parts"][:30]:
        where = f"{p.i + 1}" if p.j - p.i == 1 else f"{p.i + 1}–{p.j}"
        out.append(f"| {where} | {p.label} | {p.bits:.1f} bits |")
    out += ["", "Time to guess at this estimate (on average half of it):", "", "| attacker | time |", "|---|---|"]
    guesses = 2**bits
    for label, rate in GUESS_RATES:
        out.append(f"| {label} | {duration(guesses / 2 / rate)} |")
    out += ["", "Advice:"]
    out += [f"- {t}" for t in advice(pw, a)]
    return out


def main() -> int:
    text = sys.stdin.read() if not sys.stdin.isatty() else ""
    try:
        pws = passwords_in(text)
    except Refusal as exc:
        print(exc)
        return 2
    out: list[str] = []
    results = []
    for pw in pws[:5]:
        if len(pw) > 256:
            out += [f"## Password `{mask(pw[:20])}…`", "", "Longer than 256 characters: not analysed.", ""]
            continue
        out += [*report(pw), ""]
        results.append((pw, analyse(pw)["bits"]))
    if len(results) > 1:
        ranked = sorted(results, key=lambda t: -t[1])
        out.append("### Comparison")
        out.append("")
        out += [f"{i}. `{mask(pw)}` — {bits:.1f} bits ({verdict(bits)[0]})" for i, (pw, bits) in enumerate(ranked, 1)]
        out.append("")
    out.append(
        "This is an offline estimate from patterns; it does not check breach databases (e.g. Have I Been Pwned). "
        "The password itself is not shown or stored."
    )
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    code = main()
    if code:
        sys.exit(code)
