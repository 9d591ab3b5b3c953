"""Evaluate arithmetic and math expressions safely and exactly.

Usage:
    python3 evaluate.py < request.txt

The request may be plain ("what is 12*30 + 35?", "square root of 144 plus 3 squared"), hold the expression in
`backticks` or a code fence (one expression or assignment per line: "r = 3" then "pi * r^2"), and use
^ or ** for powers, 5! for factorials, 15% of 80, implicit multiplication (2pi, 3(4+5)), sqrt/cbrt/root,
exp/ln/log/log10/log2, sin/cos/tan and inverses (radians; "in degrees" or 30° for degrees), abs, floor,
ceil, round, gcd, lcm, comb, perm, min, max, hypot, and the constants pi, e, tau, phi.
Numbers are exact fractions (0.1 + 0.2 is exactly 3/10); functions without an exact value use floats and the
result is marked with ~. The expression is parsed with `ast` and only arithmetic nodes are evaluated - no
names other than the functions, constants and your own variables, no attributes, no calls of anything else.
Exit 2 (one sentence) when no expression is found or it cannot be evaluated (division by zero, too large).
"""

from __future__ import annotations

import ast
import math
import re
import sys
from collections.abc import Callable
from decimal import Decimal, localcontext
from fractions import Fraction as F

Num = F | float | bool

MAX_DIGITS = 20_000  # exact integers beyond this are refused (they would take long and say little)
SHOW_DIGITS = 3_000
MAX_STATEMENTS = 40


class Refusal(Exception):
    """The request cannot be handled; the message is one sentence for the user."""


# --------------------------------------------------------------------------- exact helpers


def iroot(n: int, k: int) -> int | None:
    """The integer k-th root of n >= 0 when it is exact, else None."""
    if n < 2:
        return n
    small = n.bit_length() < 50
    r = math.isqrt(n) if k == 2 else round(n ** (1.0 / k)) if small else _newton_root(n, k)
    for c in (r - 1, r, r + 1):
        if c >= 0 and c**k == n:
            return c
    return None


def _newton_root(n: int, k: int) -> int:
    x = 1 << ((n.bit_length() + k - 1) // k)
    while True:
        y = ((k - 1) * x + n // x ** (k - 1)) // k
        if y >= x:
            return x
        x = y


def exact_root(x: F, k: int) -> F | None:
    if x < 0:
        if k % 2 == 0:
            return None
        r = exact_root(-x, k)
        return -r if r is not None else None
    a, b = iroot(x.numerator, k), iroot(x.denominator, k)
    return F(a, b) if a is not None and b is not None else None


def digits_estimate(x: F) -> float:
    return max(abs(x.numerator), x.denominator, 1).bit_length() * 0.30103


def as_float(x: Num) -> float:
    try:
        return float(x)
    except OverflowError:
        raise Refusal("A value is too large for floating point (over about 1.8e308).") from None


def need_int(name: str, x: Num) -> int:
    if isinstance(x, bool) or (isinstance(x, F) and x.denominator == 1):
        return int(x)
    if isinstance(x, float) and x.is_integer():
        return int(x)
    raise Refusal(f"{name} needs whole numbers, got {show_plain(x)}.")


# --------------------------------------------------------------------------- functions


DEGREES = False


def _angle_in(x: Num) -> float:
    v = as_float(x)
    return math.radians(v) if DEGREES else v


def _angle_out(v: float) -> float:
    return math.degrees(v) if DEGREES else v


def f_sqrt(x: Num) -> Num:
    if x < 0:
        raise Refusal(f"The square root of a negative number ({show_plain(x)}) is not a real number.")
    if isinstance(x, F):
        r = exact_root(x, 2)
        if r is not None:
            return r
    return math.sqrt(as_float(x))


def f_root(x: Num, k: Num) -> Num:
    n = need_int("root(x, n)", k)
    if n <= 0:
        raise Refusal("root(x, n) needs a positive n.")
    if isinstance(x, F):
        r = exact_root(x, n)
        if r is not None:
            return r
    if x < 0:
        if n % 2 == 0:
            raise Refusal(f"An even root of a negative number ({show_plain(x)}) is not a real number.")
        return -(as_float(-x) ** (1.0 / n))
    return as_float(x) ** (1.0 / n)


def f_log(x: Num, base: Num | None = None) -> Num:
    if x <= 0 or (base is not None and (base <= 0 or base == 1)):
        raise Refusal("Logarithms need a positive argument and a positive base other than 1.")
    if base is None:
        return F(0) if x == 1 else math.log(as_float(x))
    if isinstance(x, F) and isinstance(base, F):
        k = round(math.log(as_float(x)) / math.log(as_float(base)))
        if abs(k) < 10_000:
            for c in (k - 1, k, k + 1):
                if base**c == x:
                    return F(c)
    return math.log(as_float(x)) / math.log(as_float(base))


def f_exp(x: Num) -> Num:
    if x == 0:
        return F(1)
    try:
        return math.exp(as_float(x))
    except OverflowError:
        raise Refusal("exp() of that value is too large for floating point.") from None


def f_factorial(x: Num) -> Num:
    n = need_int("factorial", x)
    if n < 0:
        raise Refusal("factorial needs a non-negative whole number.")
    if n > 5000:
        raise Refusal(f"{n}! has too many digits to show; keep factorials at or below 5000!.")
    return F(math.factorial(n))


def f_comb(n: Num, k: Num) -> Num:
    a, b = need_int("comb", n), need_int("comb", k)
    if a < 0 or b < 0 or a > 100_000:
        raise Refusal("comb(n, k) needs 0 <= k and 0 <= n <= 100000.")
    return F(math.comb(a, b))


def f_perm(n: Num, k: Num | None = None) -> Num:
    a = need_int("perm", n)
    b = a if k is None else need_int("perm", k)
    if a < 0 or b < 0 or a > 100_000:
        raise Refusal("perm(n, k) needs 0 <= k and 0 <= n <= 100000.")
    return F(math.perm(a, b))


def f_round(x: Num, nd: Num | None = None) -> Num:
    d = 0 if nd is None else need_int("round", nd)
    if isinstance(x, F):
        return F(round(x, d))
    return round(as_float(x), d)


def _int_fn(fn: Callable[[float], int]) -> Callable[[Num], Num]:
    def run(x: Num) -> Num:
        if isinstance(x, F):
            return F(fn(x))  # type: ignore[arg-type]
        return F(fn(as_float(x)))

    return run


def _float_fn(fn: Callable[[float], float], name: str, *, angle_in: bool = False, angle_out: bool = False):
    def run(x: Num) -> Num:
        v = _angle_in(x) if angle_in else as_float(x)
        try:
            r = fn(v)
        except ValueError:
            raise Refusal(f"{name}({show_plain(x)}) is outside the function's domain.") from None
        except OverflowError:
            raise Refusal(f"{name}({show_plain(x)}) is too large for floating point.") from None
        if name == "tan" and abs(r) > 1e15:
            raise Refusal(f"tan({show_plain(x)}) is undefined (an odd multiple of 90 degrees, pi/2 radians).")
        return _angle_out(r) if angle_out else r

    return run


def f_gcd(*xs: Num) -> Num:
    return F(math.gcd(*(need_int("gcd", x) for x in xs)))


def f_lcm(*xs: Num) -> Num:
    return F(math.lcm(*(need_int("lcm", x) for x in xs)))


def f_atan2(y: Num, x: Num) -> Num:
    return _angle_out(math.atan2(as_float(y), as_float(x)))


def f_hypot(*xs: Num) -> Num:
    if all(isinstance(x, F) for x in xs):
        return f_sqrt(sum((x * x for x in xs), F(0)))  # type: ignore[operator]
    return math.hypot(*(as_float(x) for x in xs))


def f_abs(x: Num) -> Num:
    return abs(x)


def f_min(*xs: Num) -> Num:
    return min(xs)


def f_max(*xs: Num) -> Num:
    return max(xs)


def f_cbrt(x: Num) -> Num:
    return f_root(x, F(3))


def f_degrees(x: Num) -> Num:
    return math.degrees(as_float(x))


def f_radians(x: Num) -> Num:
    return math.radians(as_float(x))


def f_sign(x: Num) -> Num:
    return F((x > 0) - (x < 0))


FUNCS: dict[str, tuple[Callable[..., Num], int, int]] = {  # name: (function, min args, max args; -1 = any)
    "sqrt": (f_sqrt, 1, 1),
    "cbrt": (f_cbrt, 1, 1),
    "root": (f_root, 2, 2),
    "exp": (f_exp, 1, 1),
    "ln": (lambda x: f_log(x), 1, 1),
    "log": (f_log, 1, 2),
    "log10": (lambda x: f_log(x, F(10)), 1, 1),
    "log2": (lambda x: f_log(x, F(2)), 1, 1),
    "sin": (_float_fn(math.sin, "sin", angle_in=True), 1, 1),
    "cos": (_float_fn(math.cos, "cos", angle_in=True), 1, 1),
    "tan": (_float_fn(math.tan, "tan", angle_in=True), 1, 1),
    "asin": (_float_fn(math.asin, "asin", angle_out=True), 1, 1),
    "acos": (_float_fn(math.acos, "acos", angle_out=True), 1, 1),
    "atan": (_float_fn(math.atan, "atan", angle_out=True), 1, 1),
    "atan2": (f_atan2, 2, 2),
    "sinh": (_float_fn(math.sinh, "sinh"), 1, 1),
    "cosh": (_float_fn(math.cosh, "cosh"), 1, 1),
    "tanh": (_float_fn(math.tanh, "tanh"), 1, 1),
    "abs": (f_abs, 1, 1),
    "floor": (_int_fn(math.floor), 1, 1),
    "ceil": (_int_fn(math.ceil), 1, 1),
    "trunc": (_int_fn(math.trunc), 1, 1),
    "round": (f_round, 1, 2),
    "sign": (f_sign, 1, 1),
    "factorial": (f_factorial, 1, 1),
    "gcd": (f_gcd, 1, -1),
    "lcm": (f_lcm, 1, -1),
    "comb": (f_comb, 2, 2),
    "perm": (f_perm, 1, 2),
    "min": (f_min, 1, -1),
    "max": (f_max, 1, -1),
    "hypot": (f_hypot, 1, -1),
    "degrees": (f_degrees, 1, 1),
    "radians": (f_radians, 1, 1),
}
FUNC_ALIASES = {
    "arcsin": "asin", "arccos": "acos", "arctan": "atan", "asinh": "sinh", "ncr": "comb", "choose": "comb",
    "binomial": "comb", "npr": "perm", "fact": "factorial", "sqr": "sqrt", "squareroot": "sqrt", "lg": "log10",
    "absolute": "abs", "int": "trunc", "ceiling": "ceil", "rad": "radians", "deg": "degrees",
}  # fmt: skip
CONSTS: dict[str, Num] = {"pi": math.pi, "e": math.e, "tau": math.tau, "phi": (1 + math.sqrt(5)) / 2}
WORDS_TRUE = {"true": True, "false": False}


# --------------------------------------------------------------------------- request -> python source

REPLACE_WORDS = [
    (r"\bto the power of\b|\braised to the power of\b|\braised to\b|\bto the power\b", " ** "),
    (r"\bsquared\b", " ** 2 "),
    (r"\bcubed\b", " ** 3 "),
    (r"\b(?:the )?square root of\b", " sqrt "),
    (r"\b(?:the )?cube root of\b", " cbrt "),
    (r"\b(?:the )?natural log(?:arithm)? of\b", " ln "),
    (r"\b(?:the )?log(?:arithm)? (?:base|of base) (\d+) of\b", r" log_\1 "),
    (r"\b(?:the )?log(?:arithm)? of\b", " log "),
    (r"\b(?:the )?(?:factorial) of\b", " factorial "),
    (r"\b(?:the )?absolute value of\b", " abs "),
    (r"\b(?:the )?sine of\b", " sin "),
    (r"\b(?:the )?cosine of\b", " cos "),
    (r"\b(?:the )?tangent of\b", " tan "),
    (
        r"\b(sqrt|cbrt|sin|cos|tan|asin|acos|atan|arcsin|arccos|arctan|ln|log|log10|log2|exp|abs|floor|ceil|factorial)"
        r"\s+of\b",
        r" \1 ",
    ),
    (r"\bhalf of\b", " 0.5 * "),
    (r"(?<=[\d)])\s+of\s+(?=[\d(.])", " * "),
    (r"\bmultiplied by\b|\btimes\b", " * "),
    (r"\bdivided by\b|\bover\b", " / "),
    (r"\bplus\b|\badded to\b", " + "),
    (r"\bminus\b|\bsubtract(?:ed)?\b", " - "),
    (r"\bmodulo\b|\bmod\b", " % "),
    (r"\bpercent of\b|%\s*of\b", " %of "),
    (r"\bpercent\b", " % "),
    (r"\bis (?:equal to|the same as)\b|\bequals\b", " == "),
    (r"\bis greater than or equal to\b|\bis at least\b", " >= "),
    (r"\bis less than or equal to\b|\bis at most\b", " <= "),
    (r"\bis (?:greater|bigger|larger|more) than\b", " > "),
    (r"\bis (?:less|smaller) than\b", " < "),
]
PREFIX_PHRASES = re.compile(
    r"^(?:(?:please|pls|hey|hi|ok|so|can you|could you|would you|will you|tell me|quickly|just|now|and)[\s,]+)*"
    r"(?:(?:what(?:'s| is| are| does| do)?|whats|how much is|how much|calculate|compute|evaluate|solve|simplify"
    r"|work out|figure out|find|give me|determine|check|is it true that|is)\b[\s:,]*)*"
    r"(?:(?:the )?(?:value|result|answer|output) of\b\s*)?",
    re.I,
)
TOKEN = re.compile(
    r"\s*(?:(?P<num>0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+|(?:\d[\d_]*\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z_0-9]*)"
    r"|(?P<op>\*\*|//|==|!=|<=|>=|%of|[-+*/%^<>=(),!\u221a\u03c0\u00b0]))"
)


def extract(text: str) -> tuple[list[str], bool]:
    """The expression lines of a request; True when they came from code (backticks or a fence)."""
    fences = re.findall(r"```[\w+-]*[ \t]*\n?(.*?)```", text, re.S)
    if fences:
        return [ln for f in fences for ln in _split(f)], True
    ticks = re.findall(r"`([^`\n]+)`", text)
    if ticks:
        return [ln for t in ticks for ln in _split(t)], True
    return [ln for ln in _split(text)], False


def _split(block: str) -> list[str]:
    out = []
    for line in block.splitlines():
        for part in line.split(";"):
            part = part.strip()
            if part:
                out.append(part)
    return out


def prepare(line: str, code: bool) -> str:
    t = line
    for a, b in (("\u2212", "-"), ("\u2013", "-"), ("\u00d7", "*"), ("\u00b7", "*"), ("\u2219", "*"), ("\u00f7", "/")):
        t = t.replace(a, b)
    t = t.replace("\u00b2", "**2").replace("\u00b3", "**3").replace("\u2044", "/")
    if not code:
        t = PREFIX_PHRASES.sub("", t.strip())
        t = re.sub(
            r"\b(gcd|lcm|max|min|hypot|comb|perm|choose)\s+of\s+(\S+?)\s+and\s+(\S+?)\b", r"\1(\2, \3)", t, flags=re.I
        )
        for pat, rep in REPLACE_WORDS:
            t = re.sub(pat, rep, t, flags=re.I)
        t = re.sub(r"(?<=[\d)])\s*[xX]\s*(?=[\d(.])", " * ", t)  # 3 x 4
        t = re.sub(
            r"(?<=[\d)])\s+(?:exactly|exactly equal to|equal to|the same as)\s+(?=[-\d(.])", " == ", t, flags=re.I
        )
        t = re.sub(r"\b(\d+)\s*(?:choose|C|nCr)\s*(\d+)\b", r"comb(\1, \2)", t)
        t = re.sub(r"\b(\d+)\s*(?:P|nPr)\s*(\d+)\b", r"perm(\1, \2)", t)
        t = re.sub(r"\s*,?\s+\b(?:and|then|also)\b\s+(?:(?:what(?:'s| is)|calculate|compute)\s+)?", ", ", t, flags=re.I)
        t = re.sub(r"(\d)\s*(?:degrees|degree|deg)\b", r"\1°", t, flags=re.I)
        t = re.sub(r"[?]+", " ", t)
        t = re.sub(r"(?<=\d),(?=\d{3}(?!\d))", "", t) if not re.search(r"[A-Za-z]\s*\(", t) else t
        t = re.sub(r"\s*=\s*$", "", t.rstrip(" .!?=")) if not t.rstrip().endswith("!") else t
        t = t.strip().rstrip(".")
    return t


class Tok:
    __slots__ = ("kind", "text")

    def __init__(self, kind: str, text: str) -> None:
        self.kind, self.text = kind, text

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"{self.kind}:{self.text}"


def tokenize(t: str) -> list[Tok]:
    toks: list[Tok] = []
    pos = 0
    while pos < len(t):
        m = TOKEN.match(t, pos)
        if not m or m.end() == pos:
            rest = t[pos:].strip()
            if not rest:
                break
            raise Refusal(f"Cannot read '{rest[:20]}' in the expression; use numbers, + - * / ^ ( ) and functions.")
        kind = m.lastgroup or "op"
        toks.append(Tok(kind, m.group(kind)))
        pos = m.end()
    return toks


def is_func(tok: Tok) -> bool:
    return tok.kind == "name" and (tok.text.lower() in FUNCS or tok.text.lower() in FUNC_ALIASES or _log_base(tok))


def _log_base(tok: Tok) -> bool:
    return (
        tok.kind == "name"
        and re.fullmatch(r"log_?\d+", tok.text.lower()) is not None
        and tok.text.lower()
        not in (
            "log10",
            "log2",
        )
    )


def atom_end(toks: list[Tok], i: int) -> int:
    """Index after the operand that starts at i (a number, a name, a call, a group; unary signs included)."""
    while i < len(toks) and toks[i].text in ("-", "+"):
        i += 1
    if i >= len(toks):
        raise Refusal("An operator at the end has no operand.")
    if toks[i].text == "(":
        return match_paren(toks, i) + 1
    if is_func(toks[i]):
        if i + 1 < len(toks) and toks[i + 1].text == "(":
            return match_paren(toks, i + 1) + 1
        return atom_end(toks, i + 1)
    if toks[i].kind in ("num", "name") or toks[i].text in ("\u03c0",):
        j = i + 1
        if j + 1 < len(toks) and toks[j].text in ("**", "^"):  # sqrt 2^3 = sqrt(2^3)
            return atom_end(toks, j + 1)
        return j
    if toks[i].text == "\u221a":
        return atom_end(toks, i + 1)
    raise Refusal(f"Expected a number or '(' before '{toks[i].text}'.")


def match_paren(toks: list[Tok], i: int) -> int:
    depth = 0
    for j in range(i, len(toks)):
        if toks[j].text == "(":
            depth += 1
        elif toks[j].text == ")":
            depth -= 1
            if depth == 0:
                return j
    raise Refusal("A '(' has no matching ')'.")


def atom_start(out: list[Tok]) -> int:
    """Index in `out` where the operand that ends it starts (for postfix ! ° %)."""
    if not out:
        raise Refusal("A '!' or '%' has nothing before it.")
    j = len(out) - 1
    if out[j].text == ")":
        depth = 0
        while j >= 0:
            if out[j].text == ")":
                depth += 1
            elif out[j].text == "(":
                depth -= 1
                if depth == 0:
                    break
            j -= 1
        if j > 0 and out[j - 1].kind == "name":
            j -= 1
        return max(j, 0)
    if out[j].kind in ("num", "name"):
        return j
    raise Refusal(f"A '!' or '%' follows '{out[j].text}', not a number.")


OPERAND_START = ("num", "name")


def rewrite(toks: list[Tok], notes: list[str]) -> list[Tok]:
    # postfix operators: n! -> factorial(n), x° -> radians(x), x% -> (x/100)
    out: list[Tok] = []
    for i, tk in enumerate(toks):
        nxt = toks[i + 1] if i + 1 < len(toks) else None
        if tk.text == "!" and not (nxt and nxt.text == "="):
            s = atom_start(out)
            out[s:] = [Tok("name", "factorial"), Tok("op", "("), *out[s:], Tok("op", ")")]
            continue
        if tk.text == "\u00b0":
            s = atom_start(out)
            out[s:] = [Tok("name", "radians"), Tok("op", "("), *out[s:], Tok("op", ")")]
            continue
        if tk.text == "%of":
            s = atom_start(out)
            out[s:] = [Tok("op", "("), *out[s:], Tok("op", "/"), Tok("num", "100"), Tok("op", ")"), Tok("op", "*")]
            continue
        if tk.text == "%" and not (nxt and (nxt.kind in OPERAND_START or nxt.text in ("(", "\u221a", "\u03c0"))):
            s = atom_start(out)
            out[s:] = [Tok("op", "("), *out[s:], Tok("op", "/"), Tok("num", "100"), Tok("op", ")")]
            continue
        if tk.text == "^":
            notes.append("^ is read as a power, as in maths (in Python it would be bitwise xor)")
            out.append(Tok("op", "**"))
            continue
        if tk.text == "\u03c0":
            out.append(Tok("name", "pi"))
            continue
        out.append(tk)
    # prefix: sqrt 2, sin 30°, √2, log_2 8 -> calls with parentheses
    i = 0
    res: list[Tok] = []
    toks = out
    while i < len(toks):
        tk = toks[i]
        if tk.text == "\u221a":
            tk = Tok("name", "sqrt")
        if (is_func(tk) or tk.text == "sqrt") and not (i + 1 < len(toks) and toks[i + 1].text == "("):
            end = atom_end(toks, i + 1)
            inner = rewrite_prefix_only(toks[i + 1 : end])
            res += [tk, Tok("op", "("), *inner, Tok("op", ")")]
            i = end
            continue
        res.append(tk)
        i += 1
    # implicit multiplication: 2pi, 3(4+5), (1+2)(3+4), 2 sqrt(2)
    final: list[Tok] = []
    for tk in res:
        if final:
            prev = final[-1]
            left = prev.kind == "num" or prev.text == ")" or (prev.kind == "name" and not is_func(prev))
            right = tk.kind in OPERAND_START or tk.text == "("
            prose = prev.kind == "name" and tk.kind == "name" and not is_known(prev) and not is_known(tk)
            if left and right and not prose:
                final.append(Tok("op", "*"))
        final.append(tk)
    return final


def rewrite_prefix_only(toks: list[Tok]) -> list[Tok]:
    return rewrite(toks, []) if any(is_func(t) or t.text == "\u221a" for t in toks) else toks


def is_known(tok: Tok) -> bool:
    low = tok.text.lower()
    return low in FUNCS or low in FUNC_ALIASES or low in CONSTS or low in WORDS_TRUE or tok.text in VARS


VARS: dict[str, Num] = {}


def trim_prose(toks: list[Tok]) -> list[Tok]:
    """Drop English words around the maths ('compute the sum 2+3', '2+2 exactly'), not unknown variables."""

    def unknown(t: Tok) -> bool:
        return t.kind == "name" and not is_known(t) and not _log_base(t)

    def operand_like(t: Tok) -> bool:
        return t.kind in ("num", "name") or t.text in ("(", ")")

    while toks and (
        toks[0].text in (",", "=", ":") or (unknown(toks[0]) and (len(toks) == 1 or operand_like(toks[1])))
    ):
        toks = toks[1:]
    while toks and (
        toks[-1].text in (",", "=", ":") or (unknown(toks[-1]) and len(toks) > 1 and operand_like(toks[-2]))
    ):
        toks = toks[:-1]
    return toks


def to_source(toks: list[Tok]) -> tuple[str, str, dict[str, F]]:
    """Python source with numbers as placeholders (so 0.1 stays exactly 1/10), a display form, the numbers."""
    code, shown = [], []
    nums: dict[str, F] = {}
    prev: Tok | None = None
    for tk in toks:
        unary = tk.text in ("-", "+") and (prev is None or (prev.kind == "op" and prev.text != ")"))
        prev = tk
        if unary:
            code.append(tk.text)
            shown.append(tk.text + "\u0000")
            continue
        if tk.kind == "num":
            key = f"_n{len(nums)}"
            nums[key] = parse_num(tk.text)
            code.append(key)
            shown.append(tk.text)
        elif tk.kind == "name":
            low = tk.text.lower()
            name = FUNC_ALIASES.get(low, low if (low in FUNCS or low in CONSTS or low in WORDS_TRUE) else tk.text)
            m = re.fullmatch(r"log_?(\d+)", low)
            if m and low not in ("log10", "log2"):
                name = f"_log{m.group(1)}"
            code.append(name)
            shown.append(name if not name.startswith("_log") else f"log{m.group(1) if m else ''}")
        else:
            code.append(tk.text)
            shown.append(tk.text)
    return " ".join(code), _pretty(shown), nums


def _pretty(parts: list[str]) -> str:
    s = " ".join(parts).replace("\u0000 ", "").replace("\u0000", "")
    s = re.sub(r"\(\s+", "(", s)
    s = re.sub(r"\s+\)", ")", s)
    s = re.sub(r"\s+,", ",", s)
    s = re.sub(r"(\w)\s+\(", r"\1(", s)
    return s


def parse_num(text: str) -> F:
    t = text.replace("_", "")
    if t[:2].lower() in ("0x", "0b", "0o"):
        return F(int(t, 0))
    if t.endswith("."):
        t = t[:-1]
    return F(t)


# --------------------------------------------------------------------------- evaluation over the AST


class Evaluator:
    def __init__(self, nums: dict[str, F], shown: str) -> None:
        self.nums = nums
        self.shown = shown
        self.inexact = False

    def run(self, node: ast.AST) -> Num:
        if isinstance(node, ast.Expression):
            return self.run(node.body)
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool):
                return node.value
            if isinstance(node.value, int):
                return F(node.value)
            raise Refusal("Only numbers are allowed in the expression.")
        if isinstance(node, ast.Name):
            return self.name(node.id)
        if isinstance(node, ast.UnaryOp):
            v = self.run(node.operand)
            if isinstance(node.op, ast.USub):
                return -v
            if isinstance(node.op, ast.UAdd):
                return +v
            if isinstance(node.op, ast.Not):
                return not v
            raise Refusal("Bitwise ~ is not supported.")
        if isinstance(node, ast.BinOp):
            return self.binop(node)
        if isinstance(node, ast.BoolOp):
            vals = [self.run(v) for v in node.values]
            return all(vals) if isinstance(node.op, ast.And) else any(vals)
        if isinstance(node, ast.Compare):
            left = self.run(node.left)
            for op, comp in zip(node.ops, node.comparators, strict=True):
                right = self.run(comp)
                ok = {
                    ast.Eq: lambda a, b: a == b,
                    ast.NotEq: lambda a, b: a != b,
                    ast.Lt: lambda a, b: a < b,
                    ast.LtE: lambda a, b: a <= b,
                    ast.Gt: lambda a, b: a > b,
                    ast.GtE: lambda a, b: a >= b,
                }.get(type(op))
                if ok is None:
                    raise Refusal("Only ==, !=, <, <=, >, >= comparisons are supported.")
                if isinstance(left, float) or isinstance(right, float):
                    a, b = as_float(left), as_float(right)
                    if isinstance(op, ast.Eq | ast.NotEq) and math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12):
                        self.inexact = True
                        return isinstance(op, ast.Eq)
                if not ok(left, right):
                    return False
                left = right
            return True
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.keywords:
                raise Refusal("Only calls of the listed math functions are allowed.")
            return self.call(node.func.id, [self.run(a) for a in node.args])
        if isinstance(node, ast.IfExp):
            return self.run(node.body) if self.run(node.test) else self.run(node.orelse)
        raise Refusal(f"'{type(node).__name__}' is not arithmetic; only numbers, operators and functions are allowed.")

    def name(self, ident: str) -> Num:
        if ident in self.nums:
            return self.nums[ident]
        if ident in VARS:
            return VARS[ident]
        if ident in CONSTS:
            self.inexact = True
            return CONSTS[ident]
        if ident in WORDS_TRUE:
            return WORDS_TRUE[ident]
        if ident in FUNCS:
            raise Refusal(f"{ident} is a function; call it with parentheses, e.g. {ident}(2).")
        raise Refusal(
            f"Unknown name '{ident}'; define it first (e.g. `{ident} = 3` on its own line) or use the functions "
            "sqrt, log, sin, ... and constants pi, e."
        )

    def call(self, ident: str, args: list[Num]) -> Num:
        m = re.fullmatch(r"_log(\d+)", ident)
        if m:
            if len(args) != 1:
                raise Refusal(f"log base {m.group(1)} takes one argument.")
            return self.mark(f_log(args[0], F(int(m.group(1)))))
        if ident not in FUNCS:
            raise Refusal(f"'{ident}' is not a known function; known: {', '.join(sorted(FUNCS))}.")
        fn, lo, hi = FUNCS[ident]
        if len(args) < lo or (hi != -1 and len(args) > hi):
            want = f"{lo}" if lo == hi else f"{lo} to {hi}" if hi != -1 else f"at least {lo}"
            raise Refusal(f"{ident}() takes {want} argument(s), got {len(args)}.")
        return self.mark(fn(*args))

    def mark(self, v: Num) -> Num:
        if isinstance(v, float):
            self.inexact = True
        elif isinstance(v, F) and max(abs(v.numerator), v.denominator).bit_length() > 3.33 * MAX_DIGITS * 2:
            raise Refusal("An intermediate result has tens of thousands of digits; that is too large to compute here.")
        return v

    def binop(self, node: ast.BinOp) -> Num:
        a, b = self.run(node.left), self.run(node.right)
        op = node.op
        try:
            if isinstance(op, ast.Add):
                return self.mark(a + b)
            if isinstance(op, ast.Sub):
                return self.mark(a - b)
            if isinstance(op, ast.Mult):
                return self.mark(a * b)
            if isinstance(op, ast.Div):
                return self.mark(a / b)
            if isinstance(op, ast.FloorDiv):
                return self.mark(a // b)
            if isinstance(op, ast.Mod):
                return self.mark(a % b)
            if isinstance(op, ast.Pow):
                return self.mark(self.power(a, b))
        except ZeroDivisionError:
            raise Refusal(f"Division by zero in `{self.shown}`.") from None
        except OverflowError:
            raise Refusal("A value is too large for floating point (over about 1.8e308).") from None
        raise Refusal(f"The operator {type(op).__name__} is not supported (use + - * / // % ** only).")

    def power(self, a: Num, b: Num) -> Num:
        if isinstance(a, F) and isinstance(b, F):
            if b.denominator == 1:
                if a == 0 and b < 0:
                    raise ZeroDivisionError
                est = abs(b.numerator) * digits_estimate(a) if a not in (0, 1, -1) else 0
                if est > MAX_DIGITS:
                    mag = float(b) * (math.log10(abs(a.numerator)) - math.log10(a.denominator))
                    if abs(mag) > 300:
                        raise Refusal(
                            f"The result is about 10^{mag:,.0f}, beyond exact computation and floating point."
                        )
                    return as_float(a) ** as_float(b)
                return a**b
            if b.denominator <= 1000:
                r = exact_root(a, b.denominator)
                if r is not None:
                    return self.power(r, F(b.numerator))
            if a < 0:
                if b.denominator % 2 == 1:  # an odd root of a negative number is real
                    mag = as_float(-a) ** as_float(b)
                    return -mag if b.numerator % 2 else mag
                raise Refusal(f"{show_plain(a)} to the power {show_plain(b)} is not a real number.")
        if a < 0 and not float(b).is_integer():
            raise Refusal(f"{show_plain(a)} to the power {show_plain(b)} is not a real number.")
        r = as_float(a) ** as_float(b)
        if isinstance(r, complex):
            raise Refusal("The result is not a real number.")
        return r


# --------------------------------------------------------------------------- output


def repeating(x: F) -> str | None:
    """2.(3) for 7/3: the decimal expansion with the repeating part in parentheses (short periods only)."""
    n, d = abs(x.numerator), x.denominator
    ip, r = divmod(n, d)
    seen: dict[int, int] = {}
    digits: list[str] = []
    while r and r not in seen and len(digits) < 60:
        seen[r] = len(digits)
        r *= 10
        digits.append(str(r // d))
        r %= d
    if not r or r not in seen:
        return None
    k = seen[r]
    return f"{'-' if x < 0 else ''}{ip}.{''.join(digits[:k])}({''.join(digits[k:])})"


def terminating(x: F) -> str | None:
    d = x.denominator
    twos = fives = 0
    while d % 2 == 0:
        d //= 2
        twos += 1
    while d % 5 == 0:
        d //= 5
        fives += 1
    if d != 1:
        return None
    places = max(twos, fives)
    if places > 40:
        return None
    scaled = abs(x.numerator) * 10**places // x.denominator
    s = str(scaled).rjust(places + 1, "0")
    txt = s[:-places] + "." + s[-places:] if places else s
    return ("-" if x < 0 else "") + txt


def show_int(n: int) -> str:
    s = str(abs(n))
    sign = "-" if n < 0 else ""
    if len(s) > SHOW_DIGITS:
        return f"{sign}{s[:60]}…{s[-60:]} ({len(s):,} digits, middle cut)"
    return sign + s


def approx(x: F, sig: int = 15) -> str:
    """A decimal approximation of any size of fraction (Decimal, so no float overflow)."""
    with localcontext() as ctx:
        ctx.prec = sig
        d = Decimal(x.numerator) / Decimal(x.denominator)
    if d == 0:
        return "0"
    if Decimal("1e-6") <= abs(d) < Decimal("1e15"):
        txt = format(d, "f")
        return txt.rstrip("0").rstrip(".") if "." in txt else txt
    mant, _, exp = format(d, "e").partition("e")
    mant = mant.rstrip("0").rstrip(".") if "." in mant else mant
    return f"{mant}e{int(exp)}"


def show_float(v: float) -> str:
    if v == 0:
        return "0"
    txt = f"{v:.15g}"
    if "e" in txt:
        m, _, e = txt.partition("e")
        txt = f"{m}e{int(e)}"
    return txt


def show_plain(x: Num) -> str:
    if isinstance(x, bool):
        return str(x)
    if isinstance(x, F):
        if x.denominator == 1:
            return show_int(x.numerator)
        return terminating(x) or f"{x.numerator}/{x.denominator}"
    return show_float(x)


def describe(v: Num, inexact: bool) -> tuple[str, str]:
    """(main value, detail) for one result."""
    if isinstance(v, bool):
        return f"**{v}**", "approximately equal in floating point" if inexact and v else ""
    if isinstance(v, float):
        if math.isnan(v) or math.isinf(v):
            raise Refusal("The result is not a finite number.")
        extra = "floating point, 15 significant digits"
        near = round(v)
        if 0 < abs(v) < 1e-12:
            extra += "; this is 0 up to rounding error"
        elif v != near and abs(v - near) < 1e-12 * max(1.0, abs(v)):
            extra += f"; {near} up to rounding error"
        return f"≈ **{show_float(v)}**", extra
    if v.denominator == 1:
        digits = len(str(abs(v.numerator)))
        if digits > 100:
            return f"≈ **{approx(v)}**", f"exact integer of {digits:,} digits, all shown below"
        extra = "exact" + (f", {digits} digits, ≈ {approx(v, 7)}" if digits > 15 else "")
        return f"**{show_int(v.numerator)}**", extra
    term = terminating(v)
    frac = f"{v.numerator}/{v.denominator}"
    if len(frac) > 80:
        n, d = len(str(abs(v.numerator))), len(str(v.denominator))
        return f"≈ **{approx(v)}**", f"exact fraction of {n:,} / {d:,} digits, not shown"
    if term is not None:
        return f"**{term}**", f"exact, = {frac}"
    rep = repeating(v)
    mixed = ""
    if abs(v) > 1:
        whole = int(v)
        mixed = f"; mixed {whole} {abs(v - whole).numerator}/{abs(v - whole).denominator}"
    return f"**{frac}**", f"exact; ≈ {approx(v)}" + (f", decimal {rep}" if rep else "") + mixed


def evaluate_line(raw: str, code: bool, notes: list[str]) -> list[str]:
    """The result bullets of one line (several when it holds a comma list); Refusal when it cannot be evaluated."""
    results: list[str] = []
    prepared = prepare(raw, code)
    toks = tokenize(prepared)
    target = None
    if len(toks) > 2 and toks[0].kind == "name" and toks[1].text == "=" and not is_func(toks[0]):
        target = toks[0].text
        if target.lower() in CONSTS or target in ("_",):
            raise Refusal(f"'{target}' is a constant; pick another variable name.")
        toks = toks[2:]
    toks = trim_prose(toks)
    if not toks:
        return []
    if not code and target is None and not any(t.kind == "num" or is_known(t) for t in toks):
        return []
    toks = rewrite(toks, notes)
    # a lone '=' between two sides is a check: 3*4 = 12
    toks = [Tok("op", "==") if t.text == "=" else t for t in toks]
    src, shown, nums = to_source(toks)
    try:
        tree = ast.parse(src, mode="eval")
    except SyntaxError:
        raise Refusal(f"Cannot parse `{shown}` as an expression; check the operators and parentheses.") from None
    except (RecursionError, MemoryError, ValueError):
        raise Refusal("The expression is nested too deeply to evaluate.") from None
    body = tree.body
    parts = body.elts if isinstance(body, ast.Tuple) and target is None else [body]
    shown_parts = _split_top(shown) if len(parts) > 1 else [shown]
    if len(shown_parts) != len(parts):
        shown_parts = [shown] * len(parts)
    for node, text_part in zip(parts, shown_parts, strict=True):
        ev = Evaluator(nums, text_part)
        try:
            value = ev.run(node)
        except RecursionError:
            raise Refusal("The expression is nested too deeply to evaluate.") from None
        main_txt, detail = describe(value, ev.inexact)
        tail = f" ({detail})" if detail else ""
        eq = "" if main_txt.startswith("≈") else "= "
        if target is not None:
            VARS[target] = value
            results.append(f"- `{target} = {text_part}` → {target} {eq}{main_txt}{tail}")
        else:
            results.append(f"- `{text_part}` {eq}{main_txt}{tail}")
        if isinstance(value, F) and value.denominator == 1 and len(str(abs(value.numerator))) > 100:
            digits = show_int(value.numerator)
            results.append("```text\n" + "\n".join(digits[i : i + 100] for i in range(0, len(digits), 100)) + "\n```")
    return results


def _split_top(s: str) -> list[str]:
    parts, depth, cur = [], 0, ""
    for ch in s:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(cur.strip())
            cur = ""
        else:
            cur += ch
    return [*parts, cur.strip()]


def main() -> int:
    global DEGREES
    try:
        text = sys.stdin.buffer.read().decode("utf-8", "replace")
    except (OSError, ValueError):
        text = ""
    if not text.strip():
        raise Refusal("Give an expression to evaluate, e.g. 'what is (2 + 3) * 4^2' or `sqrt(2) * pi`.")
    if len(text) > 20_000:
        raise Refusal("The request is over 20,000 characters; send the expressions only.")
    DEGREES = bool(re.search(r"\b(?:in|using|with) degrees\b|\bdegree mode\b|\bdeg mode\b", text, re.I))
    text = re.sub(r"\b(?:in|using|with) degrees\b|\bdegree mode\b|\bdeg mode\b", " ", text, flags=re.I)
    lines, code = extract(text)
    notes: list[str] = []
    results: list[str] = []
    count = 0
    for raw in lines[:MAX_STATEMENTS]:
        try:
            got = evaluate_line(raw, code, notes)
        except Refusal as exc:
            if code:
                raise
            # prose: evaluate the clauses that are maths ("how many ways ... out of 20? 20 choose 3")
            got = []
            for part in re.split(r"(?<=[?!])\s+|(?<=[.:;])\s+|\s+-\s+", raw):
                try:
                    got += evaluate_line(part, code, notes)
                except Refusal as part_exc:
                    if re.search(r"\d\s*[-+*/^%]\s*[\d(]", part):
                        notes.append(f"`{part.strip()[:60]}` was not evaluated: {str(part_exc).rstrip('.')}")
            if not got:
                raise exc from None
        results += got
        count += sum(1 for r in got if r.startswith("- `"))
    if count == 0:
        raise Refusal("No expression found; write it with numbers and operators, e.g. '(2 + 3) * 4^2' or `sqrt(2)`.")
    if len(lines) > MAX_STATEMENTS:
        notes.append(f"only the first {MAX_STATEMENTS} lines were evaluated")
    if DEGREES:
        notes.append("trigonometric functions use degrees")
    head = "# Result" if count == 1 else f"# Results ({count})"
    out = [head, "", *results]
    if notes:
        out += ["", *(f"Note: {n}." for n in dict.fromkeys(notes))]
    body = "\n".join(out)
    if len(body) > 15_000:
        body = body[:14_900] + "\n\n(output cut at 15 KB)"
    print(body)
    return 0


if __name__ == "__main__":
    sys.setrecursionlimit(6000)
    if hasattr(sys, "set_int_max_str_digits"):
        sys.set_int_max_str_digits(0)
    try:
        status = main()
    except Refusal as exc:
        print(exc)
        status = 2
    except Exception as exc:  # a bug: one line, never a traceback
        print(f"evaluate.py failed unexpectedly: {type(exc).__name__}: {exc}")
        status = 1
    sys.exit(status)
