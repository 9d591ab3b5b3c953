"""Truth tables for boolean expressions: tautology / contradiction / satisfiable, equivalence, simplest form.

Usage:
    python3 truthtable.py < request.txt

Write the expressions in backticks or quotes (several = compared with each other), or plainly
("truth table for (A and B) or not C", "is p -> q equivalent to !q -> !p").
Operators, strongest first (the Unicode logic symbols work too):  not ! ~ (and postfix ')  ·  and && & *
nand  ·  xor ^  ·  or || | + nor  ·  implies -> => (right-associative; "if A then B" too)  ·  iff <-> <=> ==
xnor. Digital notation (A'B + AB') reads juxtaposed letters as AND. Constants: true false 1 0.
Variables: names such as p, q, A, rain, x1 (up to 16).
Exit 2 (one sentence) when no expression is found or it does not parse.
"""

from __future__ import annotations

import itertools
import re
import sys
from dataclasses import dataclass

MAX_VARS = 16
FULL_TABLE_VARS = 6  # 64 rows; more variables: only the rows where the first expression is true (up to 64)


class Refusal(Exception):
    """The request cannot be handled; the message is one sentence for the user."""


NOT_S, AND_S, OR_S, XOR_S, IMP_S, IFF_S = "\u00ac", "\u2227", "\u2228", "\u2295", "\u2192", "\u2194"
NAND_S, NOR_S = "\u2191", "\u2193"

# --------------------------------------------------------------------------- tokens and parser

TOKEN = re.compile(
    r"\s*(?:(?P<op><->|<=>|<=>|->|=>|==|!=|&&|\|\||[!~\u00ac&|^*+\u00b7\u2227\u2228\u2295\u2192\u21d2\u2194\u21d4"
    r"\u2191\u2193\u22a4\u22a5()'=])"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<num>[01])(?![0-9]))"
)
WORD_OPS = {
    "not": "not", "and": "and", "or": "or", "xor": "xor", "nand": "nand", "nor": "nor", "implies": "imp",
    "imply": "imp", "then": "imp", "iff": "iff", "xnor": "iff", "equiv": "iff", "true": "T", "false": "F",
}  # fmt: skip
SYM_OPS = {
    "!": "not", "~": "not", NOT_S: "not", "&&": "and", "&": "and", "*": "and", "\u00b7": "and", AND_S: "and",
    "||": "or", "|": "or", "+": "or", OR_S: "or", "^": "xor", XOR_S: "xor", "!=": "xor",
    "->": "imp", "=>": "imp", IMP_S: "imp", "\u21d2": "imp", "<->": "iff", "<=>": "iff", "==": "iff", "=": "iff",
    IFF_S: "iff", "\u21d4": "iff", NAND_S: "nand", NOR_S: "nor", "\u22a4": "T", "\u22a5": "F",
    "(": "(", ")": ")", "'": "post_not",
}  # fmt: skip


@dataclass
class Node:
    op: str  # var, const, not, and, or, xor, nand, nor, imp, iff
    args: tuple[Node, ...] = ()
    name: str = ""
    value: bool = False


def tokenize(text: str, letters: bool = False) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(text):
        m = TOKEN.match(text, pos)
        if not m or m.end() == pos:
            rest = text[pos:].strip()
            if not rest:
                break
            raise Refusal(
                f"Cannot read '{rest[:15]}' in `{text.strip()}`; use names, and/or/not, ->, <-> and parentheses."
            )
        pos = m.end()
        if m.group("op"):
            out.append(("op", SYM_OPS[m.group("op")]))
        elif m.group("num"):
            out.append(("op", "T" if m.group("num") == "1" else "F"))
        else:
            word = m.group("name")
            low = word.lower()
            if low in WORD_OPS:
                out.append(("op", WORD_OPS[low]))
            elif letters and word.isalpha():
                out += [("var", ch) for ch in word]  # digital notation: AB is A and B
            else:
                out.append(("var", word))
    return out


class Parser:
    LEVELS = (("iff",), ("imp",), ("or", "nor"), ("xor",), ("and", "nand"))

    def __init__(self, toks: list[tuple[str, str]], source: str, implicit_and: bool = False) -> None:
        self.toks = toks
        self.i = 0
        self.source = source
        self.implicit_and = implicit_and

    def peek(self) -> tuple[str, str] | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def parse(self) -> Node:
        if not self.toks:
            raise Refusal("An expression is empty; write it like `(p and q) -> p`.")
        node = self.level(0)
        if self.peek() is not None:
            kind, val = self.peek()  # type: ignore[misc]
            what = val if kind == "var" else {"(": "(", ")": ")"}.get(val, val)
            hint = (
                " (two names need an operator between them; name each proposition with one word, e.g. rain -> wet)"
                if kind == "var"
                else ""
            )
            raise Refusal(f"Unexpected '{what}' in `{self.source}`{hint}.")
        return node

    def level(self, k: int) -> Node:
        if k == len(self.LEVELS):
            return self.unary()
        ops = self.LEVELS[k]
        left = self.level(k + 1)
        if ops == ("imp",):  # right-associative
            t = self.peek()
            if t and t[0] == "op" and t[1] == "imp":
                self.i += 1
                return Node("imp", (left, self.level(k)))
            return left
        while True:
            t = self.peek()
            if t and t[0] == "op" and t[1] in ops:
                self.i += 1
                left = Node(t[1], (left, self.level(k + 1)))
            elif self.implicit_and and "and" in ops and t and (t[0] == "var" or t[1] in ("(", "not", "T", "F")):
                left = Node("and", (left, self.level(k + 1)))  # AB = A and B in digital notation
            else:
                return left

    def unary(self) -> Node:
        t = self.peek()
        if t is None:
            raise Refusal(f"`{self.source}` ends where an operand is expected.")
        if t == ("op", "not"):
            self.i += 1
            return Node("not", (self.unary(),))
        node = self.atom()
        while self.peek() == ("op", "post_not"):
            self.i += 1
            node = Node("not", (node,))
        return node

    def atom(self) -> Node:
        t = self.peek()
        assert t is not None
        kind, val = t
        self.i += 1
        if kind == "var":
            return Node("var", name=val)
        if val in ("T", "F"):
            return Node("const", value=val == "T")
        if val == "(":
            inner = self.level(0)
            if self.peek() != ("op", ")"):
                raise Refusal(f"A '(' in `{self.source}` has no matching ')'.")
            self.i += 1
            return inner
        raise Refusal(f"Expected a name or '(' in `{self.source}`, found '{val}'.")


def variables(n: Node, out: list[str]) -> list[str]:
    if n.op == "var" and n.name not in out:
        out.append(n.name)
    for a in n.args:
        variables(a, out)
    return out


def evaluate(n: Node, env: dict[str, bool]) -> bool:
    op = n.op
    if op == "var":
        return env[n.name]
    if op == "const":
        return n.value
    if op == "not":
        return not evaluate(n.args[0], env)
    a = evaluate(n.args[0], env)
    if op == "and":
        return a and evaluate(n.args[1], env)
    if op == "or":
        return a or evaluate(n.args[1], env)
    if op == "imp":
        return (not a) or evaluate(n.args[1], env)
    b = evaluate(n.args[1], env)
    if op == "xor":
        return a != b
    if op == "iff":
        return a == b
    if op == "nand":
        return not (a and b)
    if op == "nor":
        return not (a or b)
    raise Refusal(f"Unknown operator {op}.")


SYMBOL = {"and": AND_S, "or": OR_S, "xor": XOR_S, "imp": IMP_S, "iff": IFF_S, "nand": NAND_S, "nor": NOR_S}


ASSOCIATIVE = ("and", "or", "xor", "iff")


def render(n: Node, parent: str = "") -> str:
    """Canonical symbols; a binary part inside a different operator is always parenthesized (no precedence puzzles)."""
    if n.op == "var":
        return n.name
    if n.op == "const":
        return "\u22a4" if n.value else "\u22a5"
    if n.op == "not":
        return NOT_S + render(n.args[0], "not")
    left = render(n.args[0], n.op if n.op in ASSOCIATIVE else n.op + "-left")
    rgt = render(n.args[1], n.op + "-right")
    s = f"{left} {SYMBOL[n.op]} {rgt}"
    return s if parent in ("", n.op) else f"({s})"


# --------------------------------------------------------------------------- simplification (Quine-McCluskey)


def prime_implicants(minterms: list[int], nvars: int) -> set[tuple[int, int]]:
    """Implicants as (value, mask) where mask bits are "don't care"."""
    current = {(m, 0) for m in minterms}
    primes: set[tuple[int, int]] = set()
    while current:
        used: set[tuple[int, int]] = set()
        nxt: set[tuple[int, int]] = set()
        items = sorted(current)
        by_mask: dict[int, list[tuple[int, int]]] = {}
        for it in items:
            by_mask.setdefault(it[1], []).append(it)
        for mask, group in by_mask.items():
            values = {v for v, _ in group}
            for v in values:
                for bit in range(nvars):
                    b = 1 << bit
                    if mask & b or v & b:
                        continue
                    if v | b in values:
                        nxt.add((v, mask | b))
                        used.add((v, mask))
                        used.add((v | b, mask))
        primes |= current - used
        current = nxt
    return primes


def covers(imp: tuple[int, int], m: int) -> bool:
    v, mask = imp
    return (m & ~mask) == v


def minimal_sop(minterms: list[int], names: list[str]) -> str:
    n = len(names)
    if not minterms:
        return "\u22a5"
    if len(minterms) == 2**n:
        return "\u22a4"
    primes = sorted(prime_implicants(minterms, n), key=lambda p: (bin(p[1]).count("1") * -1, p))
    left = set(minterms)
    chosen: list[tuple[int, int]] = []
    for m in minterms:  # essential primes first
        cov = [p for p in primes if covers(p, m)]
        if len(cov) == 1 and cov[0] not in chosen:
            chosen.append(cov[0])
    for p in chosen:
        left -= {m for m in left if covers(p, m)}
    while left:  # then greedily the prime covering most of what is left
        best = max(primes, key=lambda p: (sum(covers(p, m) for m in left), bin(p[1]).count("1")))
        chosen.append(best)
        left -= {m for m in left if covers(best, m)}
    terms = []

    def order(imp: tuple[int, int]) -> list[tuple[int, int]]:
        v, mask = imp
        return [(i, 0 if v & (1 << (n - 1 - i)) else 1) for i in range(n) if not mask & (1 << (n - 1 - i))]

    for v, mask in sorted(chosen, key=order):
        lits = []
        for i, name in enumerate(names):
            bit = 1 << (n - 1 - i)
            if mask & bit:
                continue
            lits.append(name if v & bit else NOT_S + name)
        terms.append(f" {AND_S} ".join(lits) if lits else "\u22a4")
    if len(terms) == 1:
        return terms[0]
    return f" {OR_S} ".join(f"({t})" if f" {AND_S} " in t else t for t in terms)


# --------------------------------------------------------------------------- request parsing

PREAMBLE = re.compile(
    r"^\s*(?:(?:please|pls|can you|could you|now)\s+)*"
    r"(?:(?:make|build|print|show|generate|give|draw|write|create|produce|compute|do)\s+(?:me\s+)?)?"
    r"(?:(?:a|the)\s+)?(?:full\s+)?(?:truth[- ]table|tt)s?\s*(?:for|of)?\s*"
    r"(?:the\s+)?(?:expressions?|formulas?|formulae)?\s*:?\s*"
    r"|^\s*(?:is it true that\s+|prove that\s+|show that\s+|can\s+|could\s+|does\s+|do\s+)"
    r"|^\s*(?:show|evaluate|simplify|minimi[sz]e|reduce|expand|tabulate|print|list)\s+(?:me\s+)?(?:the\s+)?"
    r"|^\s*(?:check|test|verify|determine|decide|find out|tell me)?\s*(?:if|whether)?\s*(?:the\s+)?"
    r"(?:expressions?|formulas?|formula|statement)?\s*:?\s*(?:is|are)?\s+",
    re.I,
)
TRAILER = re.compile(
    r"(?:,?\s*(?:(?:is|it's)\s+(?:it\s+|this\s+|that\s+)?)?(?:(?:a|an)\s+)?(?:tautology|tautologous|contradiction|contradictory"
    r"|satisfiable|unsatisfiable|valid|always true|always false|consistent|contingent|a contingency"
    r"|logically equivalent|equivalent)(?:\s+or\s+(?:(?:a|an)\s+)?\w+)*\s*)+[?.!]*\s*$"
    r"|\s+(?:for|over|across)\s+(?:all|every|each)\s+(?:possible\s+)?"
    r"(?:inputs?|input combinations?|combinations?|values?|cases?|rows?|assignments?)\s*[?.!]*\s*$"
    r"|\s+(?:ever\s+)?(?:be|become|come out)\s+(?:true|false|satisfied)\s*[?.!]*\s*$|[?.!]+\s*$",
    re.I,
)
SPLIT_EQUIV = re.compile(
    r"\s+(?:is|are)?\s*(?:logically\s+)?(?:equivalent|equals?|the same as|same as)\s+(?:to|as)?\s*"
    r"|\s*\u2261\s*|\s+(?:vs\.?|versus|against)\s+",
    re.I,
)


def extract(text: str) -> list[str]:
    text = text.replace("\u2019", "'")
    fences = re.findall(r"```[\w+-]*[ \t]*\n?(.*?)```", text, re.S)
    if fences:
        return [ln.strip() for f in fences for ln in f.splitlines() if ln.strip()]
    quoted = re.findall(r"`([^`\n]+)`|\"([^\"\n]+)\"|\u201c([^\u201d\n]+)\u201d", text)
    got = [next(g for g in q if g) for q in quoted]
    if got:
        return got
    body = text.strip()
    head, colon, tail = body.partition(":")
    if colon and tail.strip() and not re.search(r"[!~&|^()<>=\u00ac\u2227\u2228]|->", head):
        body = tail.strip()  # "prove De Morgan: !(a || b) equals !a && !b"
    m = re.match(r"^\s*(?:please\s+)?compare\s+(.+?)\s+(?:with|to|against|and)\s+(.+?)\s*[?.!]*\s*$", body, re.I)
    if m:
        return [m.group(1), m.group(2)]
    body = PREAMBLE.sub("", body, count=1)
    body = TRAILER.sub("", body)
    body = re.sub(r"^\s*(?:is|are)\s+", "", body, flags=re.I)
    parts = [p for p in SPLIT_EQUIV.split(body) if p and p.strip()]
    lines = []
    for p in parts:
        lines += [ln for ln in p.splitlines() if ln.strip()]
    return lines


def normalize(expr: str) -> str:
    e = expr.strip().strip(":;,.")
    e = re.sub(r"^\s*(?:the\s+)?(?:expression|formula|statement)\s*:?\s*", "", e, flags=re.I)
    m = re.match(r"^\s*if\s+(.+?)\s*,?\s+then\s+(.+)$", e, re.I)
    if m:
        e = f"({m.group(1)}) -> ({m.group(2)})"
    e = re.sub(r"\bif and only if\b", " iff ", e, flags=re.I)
    e = re.sub(r"\bonly if\b", " -> ", e, flags=re.I)
    e = re.sub(r"\bis equivalent to\b|\bequivalent to\b", " iff ", e, flags=re.I)
    e = re.sub(
        r"\bexclusive or\b|\beither\b", lambda x: " xor " if "exclusive" in x.group(0).lower() else " ", e, flags=re.I
    )
    return e


# --------------------------------------------------------------------------- main


def fenced_or_quoted(text: str) -> bool:
    return bool(re.search(r"`[^`]+`|\"[^\"]+\"|\u201c", text))


def main() -> int:
    try:
        text = sys.stdin.buffer.read().decode("utf-8", "replace")
    except (OSError, ValueError):
        text = ""
    if not text.strip():
        raise Refusal("Give a boolean expression, e.g. 'truth table for (p and q) -> p' or `A xor B`.")
    binary = bool(re.search(r"\b(?:binary|0/1|1/0|ones and zeros|bits)\b", text, re.I))
    raw_exprs = [normalize(e) for e in extract(text)]
    raw_exprs = [e for e in raw_exprs if e]
    if not raw_exprs:
        raise Refusal("No expression found; put it in backticks, e.g. truth table for `(p and q) -> p`.")
    if len(raw_exprs) > 6:
        raise Refusal("At most 6 expressions can be compared at once.")
    trees = []
    for e in raw_exprs:
        digital = "'" in e or re.search(r"[A-Za-z0-9)']\s*\+\s*[A-Za-z(]", e) is not None
        toks = tokenize(e, letters=digital and not re.search(r"[a-z]{2}", e))
        if digital or re.search(r"[*\u00b7]", e):
            binary = True
        trees.append(Parser(toks, e, implicit_and=digital).parse())
    if not (fenced_or_quoted(text)) and all(t.op in ("var", "const") for t in trees):
        raise Refusal("No boolean operator found; write an expression like `(p and q) -> p` or `A xor B`.")
    names: list[str] = []
    for t in trees:
        variables(t, names)
    names.sort(key=lambda s: (s.lower(), s))
    if len(names) > MAX_VARS:
        raise Refusal(f"{len(names)} variables is too many (at most {MAX_VARS}, {2**MAX_VARS:,} rows).")
    shown = [render(t) for t in trees]
    rows: list[tuple[tuple[bool, ...], list[bool]]] = []
    for combo in itertools.product((False, True), repeat=len(names)):
        env = dict(zip(names, combo, strict=True))
        rows.append((combo, [evaluate(t, env) for t in trees]))
    yes, no = ("1", "0") if binary else ("T", "F")

    def cell(b: bool) -> str:
        return yes if b else no

    n = len(rows)
    out: list[str] = []
    title = shown[0] if len(shown) == 1 else " vs ".join(f"`{s}`" for s in shown)
    out.append(f"# Truth table: {title}" if len(shown) == 1 else f"# Truth tables: {title}")
    out.append("")
    var_txt = ", ".join(names) if names else "none (constants only)"
    out.append(f"Variables: {var_txt} · {n} row{'s' if n != 1 else ''} · {yes} = true, {no} = false")
    out.append("")
    full = len(names) <= FULL_TABLE_VARS
    head = [*names, *(f"`{s}`" if len(shown) > 1 else s for s in shown)]
    if len(shown) > 1:
        head = [*names, *(f"E{i + 1}" for i in range(len(shown)))]
        out += [f"- E{i + 1}: `{s}`" for i, s in enumerate(shown)]
        out.append("")
    table = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    listed = rows if full else [r for r in rows if r[1][0]][:64]
    for combo, vals in listed:
        table.append("| " + " | ".join([*(cell(b) for b in combo), *(f"**{cell(v)}**" for v in vals)]) + " |")
    if not full:
        total_true = sum(1 for r in rows if r[1][0])
        out.append(
            f"(Only rows where E1 is true are listed, {min(total_true, 64)} of {total_true}; "
            f"the full table has {n:,} rows.)"
        )
    out += table
    out.append("")
    for i, s in enumerate(shown):
        vals = [r[1][i] for r in rows]
        k = sum(vals)
        label = f"`{s}`" if len(shown) == 1 else f"E{i + 1}"
        if k == n:
            verdict = f"**Tautology** - {label} is true in all {n} rows (valid)."
        elif k == 0:
            verdict = f"**Contradiction** - {label} is false in all {n} rows (unsatisfiable)."
        else:
            verdict = f"**Satisfiable** (contingent) - {label} is true in {k} of {n} rows, false in {n - k}."
        out.append(verdict)
        if 0 < k < n and names:
            mins = [idx for idx, r in enumerate(rows) if r[1][i]]
            if len(names) <= 10:
                out.append(f"  - Simplest sum of products found: `{minimal_sop(mins, names)}`")
            if k <= 4 and k <= n - k:
                ex = "; ".join(
                    ", ".join(f"{nm}={cell(b)}" for nm, b in zip(names, rows[m][0], strict=True)) for m in mins
                )
                out.append(f"  - True only when: {ex}")
            elif n - k <= 4:
                falses = [idx for idx, r in enumerate(rows) if not r[1][i]]
                ex = "; ".join(
                    ", ".join(f"{nm}={cell(b)}" for nm, b in zip(names, rows[m][0], strict=True)) for m in falses
                )
                out.append(f"  - False only when: {ex}")
    if len(shown) > 1:
        out.append("")
        out.append("## Equivalence")
        for j in range(1, len(shown)):
            diff = [r for r in rows if r[1][0] != r[1][j]]
            if not diff:
                out.append(f"- E1 and E{j + 1} are **equivalent**: the same value in all {n} rows.")
                continue
            examples = "; ".join(
                ", ".join(f"{nm}={cell(b)}" for nm, b in zip(names, r[0], strict=True))
                + f" → E1={cell(r[1][0])}, E{j + 1}={cell(r[1][j])}"
                for r in diff[:3]
            )
            rel = ""
            if all(r[1][j] for r in rows if r[1][0]):
                rel = f" (but E1 implies E{j + 1}: whenever E1 is true, so is E{j + 1})"
            elif all(r[1][0] for r in rows if r[1][j]):
                rel = f" (but E{j + 1} implies E1: whenever E{j + 1} is true, so is E1)"
            out.append(
                f"- E1 and E{j + 1} are **not equivalent**: they differ in {len(diff)} of {n} rows{rel}. "
                f"Counterexample{'s' if len(diff) > 1 else ''}: {examples}"
            )
    body = "\n".join(out)
    if len(body) > 15_000:
        body = body[:14_800] + "\n\n(output cut at 15 KB)"
    print(body)
    return 0


if __name__ == "__main__":
    sys.setrecursionlimit(5000)
    try:
        status = main()
    except Refusal as exc:
        print(exc)
        status = 2
    except RecursionError:
        print("The expression is nested too deeply.")
        status = 2
    except Exception as exc:  # a bug: one line, never a traceback
        print(f"truthtable.py failed unexpectedly: {type(exc).__name__}: {exc}")
        status = 1
    sys.exit(status)
