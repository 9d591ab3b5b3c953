"""Colour palettes from a base colour, and WCAG 2 contrast checks.

Usage:
    python3 palette.py < request.txt

Colours: #3366cc, #36c, #3366ccff (alpha ignored), rgb(51, 102, 204), hsl(220, 60%, 50%), CSS names
(steelblue, rebeccapurple, ...). With two or more colours and a word like "contrast", "readable", "on",
"against" or "accessible", the first colour is checked as text on the second (or every pair is tabled).
With one colour: tints and shades (50-900), complementary, analogous, triadic, split-complementary and
tetradic colours, each with its contrast against white and black. Name a scheme ("triadic", "shades") to get
only that part. A mood word alone ("calm", "forest", "sunset") picks a base colour from a small table.
Exit 2 (one sentence) when no colour is found.
"""

from __future__ import annotations

import colorsys
import math
import re
import sys

CSS_NAMES = """
aliceblue f0f8ff antiquewhite faebd7 aqua 00ffff aquamarine 7fffd4 azure f0ffff beige f5f5dc bisque ffe4c4
black 000000 blanchedalmond ffebcd blue 0000ff blueviolet 8a2be2 brown a52a2a burlywood deb887 cadetblue 5f9ea0
chartreuse 7fff00 chocolate d2691e coral ff7f50 cornflowerblue 6495ed cornsilk fff8dc crimson dc143c cyan 00ffff
darkblue 00008b darkcyan 008b8b darkgoldenrod b8860b darkgray a9a9a9 darkgreen 006400 darkgrey a9a9a9
darkkhaki bdb76b darkmagenta 8b008b darkolivegreen 556b2f darkorange ff8c00 darkorchid 9932cc darkred 8b0000
darksalmon e9967a darkseagreen 8fbc8f darkslateblue 483d8b darkslategray 2f4f4f darkslategrey 2f4f4f
darkturquoise 00ced1 darkviolet 9400d3 deeppink ff1493 deepskyblue 00bfff dimgray 696969 dimgrey 696969
dodgerblue 1e90ff firebrick b22222 floralwhite fffaf0 forestgreen 228b22 fuchsia ff00ff gainsboro dcdcdc
ghostwhite f8f8ff gold ffd700 goldenrod daa520 gray 808080 grey 808080 green 008000 greenyellow adff2f
honeydew f0fff0 hotpink ff69b4 indianred cd5c5c indigo 4b0082 ivory fffff0 khaki f0e68c lavender e6e6fa
lavenderblush fff0f5 lawngreen 7cfc00 lemonchiffon fffacd lightblue add8e6 lightcoral f08080 lightcyan e0ffff
lightgoldenrodyellow fafad2 lightgray d3d3d3 lightgreen 90ee90 lightgrey d3d3d3 lightpink ffb6c1
lightsalmon ffa07a lightseagreen 20b2aa lightskyblue 87cefa lightslategray 778899 lightslategrey 778899
lightsteelblue b0c4de lightyellow ffffe0 lime 00ff00 limegreen 32cd32 linen faf0e6 magenta ff00ff
maroon 800000 mediumaquamarine 66cdaa mediumblue 0000cd mediumorchid ba55d3 mediumpurple 9370db
mediumseagreen 3cb371 mediumslateblue 7b68ee mediumspringgreen 00fa9a mediumturquoise 48d1cc
mediumvioletred c71585 midnightblue 191970 mintcream f5fffa mistyrose ffe4e1 moccasin ffe4b5
navajowhite ffdead navy 000080 oldlace fdf5e6 olive 808000 olivedrab 6b8e23 orange ffa500 orangered ff4500
orchid da70d6 palegoldenrod eee8aa palegreen 98fb98 paleturquoise afeeee palevioletred db7093
papayawhip ffefd5 peachpuff ffdab9 peru cd853f pink ffc0cb plum dda0dd powderblue b0e0e6 purple 800080
rebeccapurple 663399 red ff0000 rosybrown bc8f8f royalblue 4169e1 saddlebrown 8b4513 salmon fa8072
sandybrown f4a460 seagreen 2e8b57 seashell fff5ee sienna a0522d silver c0c0c0 skyblue 87ceeb slateblue 6a5acd
slategray 708090 slategrey 708090 snow fffafa springgreen 00ff7f steelblue 4682b4 tan d2b48c teal 008080
thistle d8bfd8 tomato ff6347 turquoise 40e0d0 violet ee82ee wheat f5deb3 white ffffff whitesmoke f5f5f5
yellow ffff00 yellowgreen 9acd32
"""
NAMED: dict[str, tuple[int, int, int]] = {}
_words = CSS_NAMES.split()
for _i in range(0, len(_words), 2):
    _h = _words[_i + 1]
    NAMED[_words[_i]] = (int(_h[0:2], 16), int(_h[2:4], 16), int(_h[4:6], 16))
MOODS = {
    "calm": "#5b8db8", "serene": "#6a9fb5", "ocean": "#1f6f8b", "sea": "#2a7f9e", "sky": "#4a90d9",
    "trust": "#1f4e79", "corporate": "#1f4e79", "professional": "#2b4c7e", "tech": "#3366cc",
    "forest": "#2f5d3a", "nature": "#4a7c59", "fresh": "#3fa34d", "eco": "#5a8f29", "earthy": "#8b5e3c",
    "warm": "#e07a5f", "sunset": "#f4845f", "autumn": "#c8553d", "energetic": "#ff6b35", "bold": "#d7263d",
    "passion": "#c1121f", "playful": "#ff5da2", "romantic": "#d6336c", "luxury": "#4b2e83", "royal": "#5a2a82",
    "elegant": "#3d3b5a", "minimal": "#6b7280", "neutral": "#8a8178", "coffee": "#6f4e37", "sand": "#c2a878",
    "pastel": "#a8c5e6", "cheerful": "#f6c026", "sunny": "#f6c026", "mint": "#3eb489", "lavender": "#9b87c9",
}  # fmt: skip
SCHEMES = {
    "complementary": ["complementary", "complement", "opposite"],
    "analogous": ["analogous", "adjacent", "neighbo"],
    "triadic": ["triadic", "triad"],
    "split": ["split"],
    "tetradic": ["tetradic", "square", "rectangle", "tetrad"],
    "scale": ["shade", "tint", "scale", "monochrom", "lighter", "darker", "ramp", "50-900", "tone"],
}


class Refusal(Exception):
    """The request cannot be handled; the message is one sentence for the user."""


RGB = tuple[int, int, int]


# --------------------------------------------------------------------------- colour maths


def to_hex(c: RGB) -> str:
    return "#{:02x}{:02x}{:02x}".format(*c)


def clamp(v: float) -> int:
    return max(0, min(255, round(v)))


def channel(c: int) -> float:
    s = c / 255
    return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4


def luminance(c: RGB) -> float:
    r, g, b = (channel(x) for x in c)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: RGB, b: RGB) -> float:
    la, lb = luminance(a), luminance(b)
    hi, lo = max(la, lb), min(la, lb)
    return (hi + 0.05) / (lo + 0.05)


def ratio_txt(r: float) -> str:
    """Two decimals, rounded down: a 4.499 ratio must not read as passing 4.5."""
    return f"{math.floor(r * 100 + 1e-9) / 100:.2f}:1"


def hsl(c: RGB) -> tuple[float, float, float]:
    h, lum, s = colorsys.rgb_to_hls(*(x / 255 for x in c))
    return h * 360, s * 100, lum * 100


def from_hsl(h: float, s: float, lum: float) -> RGB:
    r, g, b = colorsys.hls_to_rgb((h % 360) / 360, max(0, min(100, lum)) / 100, max(0, min(100, s)) / 100)
    return clamp(r * 255), clamp(g * 255), clamp(b * 255)


def rotate(c: RGB, deg: float) -> RGB:
    h, s, lum = hsl(c)
    return from_hsl(h + deg, s, lum)


def mix(a: RGB, b: RGB, t: float) -> RGB:
    """t of b mixed into a (sRGB, like Sass mix)."""
    return clamp(a[0] + (b[0] - a[0]) * t), clamp(a[1] + (b[1] - a[1]) * t), clamp(a[2] + (b[2] - a[2]) * t)


def oklab(c: RGB) -> tuple[float, float, float]:
    r, g, b = (channel(x) for x in c)
    lm = 0.4122214708 * r + 0.5363325363 * g + 0.0514459929 * b
    mm = 0.2119034982 * r + 0.6806995451 * g + 0.1073969566 * b
    sm = 0.0883024619 * r + 0.2817188376 * g + 0.6299787005 * b
    lc, mc, sc = (math.copysign(abs(v) ** (1 / 3), v) for v in (lm, mm, sm))
    return (
        0.2104542553 * lc + 0.7936177850 * mc - 0.0040720468 * sc,
        1.9779984951 * lc - 2.4285922050 * mc + 0.4505937099 * sc,
        0.0259040371 * lc + 0.7827717662 * mc - 0.8086757660 * sc,
    )


def nearest_name(c: RGB) -> str:
    lab = oklab(c)
    best = min(NAMED.items(), key=lambda kv: sum((p - q) ** 2 for p, q in zip(oklab(kv[1]), lab, strict=True)))
    exact = best[1] == c
    return best[0] if exact else f"≈ {best[0]}"


# --------------------------------------------------------------------------- parsing

HEX = re.compile(r"(?<![\w#])#([0-9a-fA-F]{8}|[0-9a-fA-F]{6}|[0-9a-fA-F]{4}|[0-9a-fA-F]{3})(?![0-9a-fA-F])")
BARE_HEX = re.compile(r"(?<![\w#])(?:0x)?([0-9a-fA-F]{6})(?![\w])")
RGB_FN = re.compile(
    r"\brgba?\s*\(\s*(\d{1,3}(?:\.\d+)?%?)\s*[, ]\s*(\d{1,3}(?:\.\d+)?%?)\s*[, ]\s*(\d{1,3}(?:\.\d+)?%?)"
    r"(?:\s*[,/]\s*[\d.]+%?)?\s*\)",
    re.I,
)
RGB_WORDS = re.compile(r"\brgb\s*[:=]?\s*(\d{1,3})[\s,]+(\d{1,3})[\s,]+(\d{1,3})\b", re.I)
HSL_FN = re.compile(
    r"\bhsla?\s*\(\s*(-?\d+(?:\.\d+)?)(?:deg)?\s*[, ]\s*(\d+(?:\.\d+)?)%?\s*[, ]\s*(\d+(?:\.\d+)?)%?"
    r"(?:\s*[,/]\s*[\d.]+%?)?\s*\)",
    re.I,
)


def find_colors(text: str) -> list[tuple[int, RGB, str]]:
    found: list[tuple[int, RGB, str]] = []
    spans: list[tuple[int, int]] = []

    def add(pos: int, end: int, c: RGB, label: str) -> None:
        if any(pos < e and s < end for s, e in spans):
            return
        spans.append((pos, end))
        found.append((pos, c, label))

    for m in RGB_FN.finditer(text):
        vals = []
        for v in m.groups():
            vals.append(float(v[:-1]) * 2.55 if v.endswith("%") else float(v))
        if any(v > 255 for v in vals):
            raise Refusal(f"'{m.group(0)}' has a channel over 255.")
        add(m.start(), m.end(), (clamp(vals[0]), clamp(vals[1]), clamp(vals[2])), m.group(0))
    for m in HSL_FN.finditer(text):
        h, s, lum = (float(v) for v in m.groups())
        add(m.start(), m.end(), from_hsl(h, s, lum), m.group(0))
    for m in RGB_WORDS.finditer(text):
        vals = [int(v) for v in m.groups()]
        if any(v > 255 for v in vals):
            raise Refusal(f"'{m.group(0)}' has a channel over 255.")
        add(m.start(), m.end(), (vals[0], vals[1], vals[2]), m.group(0))
    for m in HEX.finditer(text):
        h = m.group(1)
        if len(h) in (3, 4):
            h = "".join(ch * 2 for ch in h[:3])
        add(m.start(), m.end(), (int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)), "#" + m.group(1).lower())
    if not found or re.search(r"\bhex\b", text, re.I):
        for m in BARE_HEX.finditer(text):
            if re.search(r"[a-fA-F]", m.group(1)) or re.search(r"\bhex\b", text, re.I):
                h = m.group(1)
                add(m.start(), m.end(), (int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)), "#" + h.lower())
    low = text.lower()
    spaced = {"navy blue": "navy"}
    for name in ("light gray", "dark gray", "light grey", "dark grey", "light blue", "dark blue", "light green"):
        spaced[name] = name.replace(" ", "")
    for name in ("dark green", "sky blue", "hot pink", "dark red", "steel blue", "royal blue", "sea green"):
        spaced[name] = name.replace(" ", "")
    for name, key in spaced.items():
        for m in re.finditer(rf"\b{name}\b", low):
            add(m.start(), m.end(), NAMED[key], name)
    for name in sorted(NAMED, key=len, reverse=True):
        for m in re.finditer(rf"\b{name}\b", low):
            add(m.start(), m.end(), NAMED[name], name)
    found.sort(key=lambda f: f[0])
    return found


# --------------------------------------------------------------------------- output


def describe(c: RGB) -> tuple[str, str, str]:
    h, s, lum = hsl(c)
    return to_hex(c), f"{c[0]}, {c[1]}, {c[2]}", f"{h:.0f}°, {s:.0f}%, {lum:.0f}%"


WHITE: RGB = (255, 255, 255)
BLACK: RGB = (0, 0, 0)


def text_on(c: RGB) -> str:
    w, b = contrast(c, WHITE), contrast(c, BLACK)
    return f"white ({ratio_txt(w)})" if w >= b else f"black ({ratio_txt(b)})"


def grade(r: float) -> str:
    parts = []
    parts.append("AA text pass" if r >= 4.5 else "AA text fail")
    parts.append("AA large pass" if r >= 3 else "AA large fail")
    parts.append("AAA text pass" if r >= 7 else "AAA text fail")
    return ", ".join(parts)


def color_rows(items: list[tuple[str, RGB]]) -> list[str]:
    out = ["| role | hex | RGB | HSL | vs white | vs black | text on it | name |", "|---|---|---|---|---|---|---|---|"]
    for role, c in items:
        hx, rgb, hs = describe(c)
        out.append(
            f"| {role} | `{hx}` | {rgb} | {hs} | {ratio_txt(contrast(c, WHITE))} | {ratio_txt(contrast(c, BLACK))} "
            f"| {text_on(c)} | {nearest_name(c)} |"
        )
    return out


def scale(c: RGB) -> list[tuple[str, RGB]]:
    steps = [
        ("50", WHITE, 0.92),
        ("100", WHITE, 0.84),
        ("200", WHITE, 0.66),
        ("300", WHITE, 0.46),
        ("400", WHITE, 0.24),
    ]
    steps += [
        ("500", WHITE, 0.0),
        ("600", BLACK, 0.16),
        ("700", BLACK, 0.32),
        ("800", BLACK, 0.48),
        ("900", BLACK, 0.62),
    ]
    return [(k, mix(c, target, t)) for k, target, t in steps]


def fix_suggestion(fg: RGB, bg: RGB, goal: float) -> tuple[RGB, float] | None:
    """The colour nearest to fg (same hue and saturation, lightness moved) with contrast >= goal on bg."""
    h, s, lum = hsl(fg)
    best = None
    for step in range(1, 351):  # lightness moved by at most 35 points: beyond that it is another colour
        for direction in (-1, 1):
            cand_l = lum + direction * step * 0.1
            if not 0 <= cand_l <= 100:
                continue
            cand = from_hsl(h, s, cand_l)
            r = contrast(cand, bg)
            if r >= goal:
                best = (cand, r)
                break
        if best:
            return best
    return None


def contrast_report(colors: list[tuple[int, RGB, str]], text: str) -> list[str]:
    out: list[str] = []
    if len(colors) == 2 or (re.search(r"\bon\b|\bagainst\b|\bover\b|\bbackground\b", text, re.I) and len(colors) >= 2):
        fg, bg = colors[0], colors[1]
        m_on = re.search(r"(?:text|foreground|font)\b", text, re.I)
        swap = re.search(r"background\s*(?:is|=|:)?\s*$", text[: colors[0][0]], re.I) is not None and not m_on
        if swap:
            fg, bg = bg, fg
        r = contrast(fg[1], bg[1])
        out.append(f"# Contrast: `{to_hex(fg[1])}` on `{to_hex(bg[1])}`")
        out.append("")
        out.append(f"**{ratio_txt(r)}** - {grade(r)}; UI components and graphics (3:1) {'pass' if r >= 3 else 'fail'}.")
        out.append("")
        out.append("| level | needs | result |")
        out.append("|---|---|---|")
        for label, need in (
            ("AA normal text", 4.5),
            ("AA large text (24px, or 18.66px bold)", 3.0),
            ("AAA normal text", 7.0),
            ("AAA large text", 4.5),
            ("Non-text UI (1.4.11)", 3.0),
        ):
            out.append(f"| {label} | {need:g}:1 | {'pass' if r >= need else 'fail'} |")
        out.append("")
        for goal, name in ((4.5, "AA"), (7.0, "AAA")):
            if r >= goal:
                continue
            fix = fix_suggestion(fg[1], bg[1], goal)
            alt = fix_suggestion(bg[1], fg[1], goal)
            tips = []
            if fix:
                tips.append(f"text `{to_hex(fix[0])}` ({ratio_txt(fix[1])})")
            if alt:
                tips.append(f"background `{to_hex(alt[0])}` ({ratio_txt(alt[1])})")
            if tips:
                out.append(
                    f"- To pass {name} ({goal:g}:1), the nearest fix keeping hue and saturation: "
                    + " or ".join(tips)
                    + "."
                )
            else:
                out.append(f"- No lightness change of these hues reaches {name}; pick another colour pair.")
        if out[-1] != "":
            out.append("")
        out += color_rows([("text", fg[1]), ("background", bg[1])])
        return out
    out.append(f"# Contrast matrix ({len(colors)} colours)")
    out.append("")
    head = ["text \\ background", *(f"`{to_hex(c)}`" for _, c, _ in colors)]
    out.append("| " + " | ".join(head) + " |")
    out.append("|" + "---|" * len(head))
    for _, a, _ in colors:
        cells = []
        for _, b, _ in colors:
            if a == b:
                cells.append("-")
                continue
            r = contrast(a, b)
            mark = "AAA" if r >= 7 else "AA" if r >= 4.5 else "large" if r >= 3 else "fail"
            cells.append(f"{ratio_txt(r)} {mark}")
        out.append("| " + " | ".join([f"`{to_hex(a)}`", *cells]) + " |")
    out.append("")
    out.append("AA: normal text passes (4.5:1) · large: only large text / UI (3:1) · fail: under 3:1.")
    return out


def palette_report(base: RGB, label: str, text: str) -> list[str]:
    asked = [k for k, words in SCHEMES.items() if any(w in text.lower() for w in words)]
    parts = asked or list(SCHEMES)
    out = [f"# Palette from `{to_hex(base)}`" + (f" ({label})" if not label.startswith("#") else ""), ""]
    h, s, lum = hsl(base)
    out.append(f"Base: `{to_hex(base)}` · RGB {base[0]}, {base[1]}, {base[2]} · HSL {h:.0f}°, {s:.0f}%, {lum:.0f}%")
    out.append("")
    named: list[tuple[str, str, RGB]] = [("base", "base", base)]
    if "complementary" in parts:
        named.append(("complementary (180°)", "complementary", rotate(base, 180)))
    for key, label, degs in (
        ("analogous", "analogous", (-30, 30)),
        ("triadic", "triadic", (120, 240)),
        ("split", "split-compl.", (150, 210)),
        ("tetradic", "tetradic", (90, 270)),
    ):
        if key in parts:
            for n, d in enumerate(degs, 1):
                named.append((f"{label} ({d:+d}°)", f"{key}-{n}", rotate(base, d)))
    items = [(role, c) for role, _, c in named]
    if len(items) > 1 or "scale" not in parts:
        out.append("## Harmonies (hue rotated in HSL, same saturation and lightness)")
        out += color_rows(items)
        out.append("")
    css = [f"  --color-{key}: {to_hex(c)};" for _, key, c in named]
    if "scale" in parts:
        out.append("## Tints and shades (mixed with white / black; 500 is the base)")
        out += color_rows([(k, c) for k, c in scale(base)])
        out.append("")
        css += [f"  --color-{k}: {to_hex(c)};" for k, c in scale(base)]
    out.append("## CSS")
    out.append("```css")
    out.append(":root {")
    out += css
    out.append("}")
    out.append("```")
    out.append("")
    out.append(
        "Contrast is WCAG 2.x (relative luminance): 4.5:1 for normal text (AA), 3:1 for large text and UI parts, "
        "7:1 for AAA. 'text on it' is the better of white or black text on that colour."
    )
    return out


def main() -> int:
    try:
        text = sys.stdin.buffer.read().decode("utf-8", "replace")
    except (OSError, ValueError):
        text = ""
    if not text.strip():
        raise Refusal(
            "Give a colour such as #3366cc, rgb(51, 102, 204) or steelblue, or two colours to check contrast."
        )
    colors = find_colors(text)
    wants_contrast = re.search(
        r"\bcontrast|\breadab|\blegib|\baccessib|\bwcag\b|\ba11y\b|\bpass(?:es)?\b|\bon (?:a |an )?(?:white|black|#)"
        r"|\bagainst\b|\btext on\b",
        text,
        re.I,
    )
    notes: list[str] = []
    if re.search(r"#[0-9a-fA-F]{8}\b|#[0-9a-fA-F]{4}\b|rgba\(|hsla\(", text):
        notes.append("alpha (transparency) is ignored; contrast is for the opaque colour")
    if not colors:
        mood = next((m for m in MOODS if re.search(rf"\b{m}\b", text, re.I)), None)
        if mood is None:
            raise Refusal(
                "No colour found; give a base colour as #3366cc, rgb(51, 102, 204), hsl(220, 60%, 50%) or a CSS name "
                "like steelblue (or a mood word such as calm, forest, sunset)."
            )
        h = MOODS[mood]
        base = (int(h[1:3], 16), int(h[3:5], 16), int(h[5:7], 16))
        notes.append(f"no colour was given; `{h}` was picked for the mood word '{mood}' - give a hex colour to choose")
        out = palette_report(base, mood, text)
    elif len(colors) >= 2 and (wants_contrast or len(colors) == 2):
        if len(colors) > 12:
            raise Refusal("At most 12 colours can be compared at once.")
        out = contrast_report(colors, text)
    elif len(colors) == 1 and wants_contrast and re.search(r"\bwhite\b|\bblack\b", text, re.I) is None:
        c = colors[0][1]
        out = [f"# Contrast of `{to_hex(c)}`", ""]
        out += color_rows([("colour", c)])
        out.append("")
        out.append(f"On white: {ratio_txt(contrast(c, WHITE))} ({grade(contrast(c, WHITE))}).")
        out.append(f"On black: {ratio_txt(contrast(c, BLACK))} ({grade(contrast(c, BLACK))}).")
    else:
        _, base, label = colors[0]
        out = palette_report(base, label, text)
        if len(colors) > 1:
            notes.append(f"{len(colors)} colours were found; the palette is built from the first ({label})")
    if notes:
        out.append("")
        out += [f"Note: {n}." for n in notes]
    body = "\n".join(out)
    if len(body) > 15_000:
        body = body[:14_800] + "\n\n(output cut at 15 KB)"
    print(body)
    return 0


if __name__ == "__main__":
    try:
        status = main()
    except Refusal as exc:
        print(exc)
        status = 2
    except Exception as exc:  # a bug: one line, never a traceback
        print(f"palette.py failed unexpectedly: {type(exc).__name__}: {exc}")
        status = 1
    sys.exit(status)
