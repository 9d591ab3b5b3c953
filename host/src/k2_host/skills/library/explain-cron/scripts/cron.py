"""Explain a cron expression in words and list its next run times from a given start time.

Usage:
    python3 cron.py < request.txt     # e.g. "explain `*/15 9-17 * * 1-5` next 10 runs from 2026-03-02 08:50"

Standard 5-field cron (minute hour day-of-month month day-of-week) with lists, ranges, steps, month and day
names (JAN, mon-fri), 7 = Sunday, `?` as `*`, and the macros @yearly @annually @monthly @weekly @daily
@midnight @hourly (@reboot has no times). As in Vixie cron, when both day-of-month and day-of-week are
restricted a day matches if EITHER matches. The start time comes from the request ("from 2026-03-02 08:50",
"after 2026-03-02T08:50", "starting 2026-03-02"); without one it is 2026-01-01 00:00, so the answer is
deterministic. Runs are at or after the start, in the same (unspecified) time zone. "next 10" sets the count
(default 5, at most 50). Exit 2 for a missing or invalid expression.
"""

from __future__ import annotations

import calendar
import re
import sys
from datetime import datetime, timedelta
from itertools import pairwise

DEFAULT_START = datetime(2026, 1, 1, 0, 0)
FIELDS = [("minute", 0, 59), ("hour", 0, 23), ("day of month", 1, 31), ("month", 1, 12), ("day of week", 0, 7)]
MONTHS = {m.lower(): i for i, m in enumerate(calendar.month_abbr) if m}
DAYS = {"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}
DAY_NAMES = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"]
MONTH_NAMES = list(calendar.month_name)
NAME = r"(?i:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|sun|mon|tue|wed|thu|fri|sat)"
MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}


class Refusal(Exception):
    """The request cannot be handled; the message is one sentence for the user."""


# --------------------------------------------------------------------------- parsing


def find_expression(text: str) -> tuple[str, str]:
    """(expression, command) - a crontab line's command after the 5 fields is kept for the report."""
    for m in re.finditer(r"`([^`\n]+)`|\"([^\"\n]+)\"|'([^'\n]+)'", text):
        cand = next(g for g in m.groups() if g is not None).strip()
        if looks_like_cron(cand):
            return cand, ""
        parts = cand.split(None, 5)
        if len(parts) == 6 and looks_like_cron(" ".join(parts[:5])) and not looks_like_cron(" ".join(parts)):
            return " ".join(parts[:5]), parts[5]
    m = re.search(
        r"(?<![\w@])(@(?:yearly|annually|monthly|weekly|daily|midnight|hourly|reboot))\b(.*)$", text, re.I | re.M
    )
    if m:
        return m.group(1).lower(), ""
    m = re.search(r"(?<![\w@])(@(?:yearly|annually|monthly|weekly|daily|midnight|hourly|reboot))\b", text, re.I)
    if m:
        return m.group(1).lower()
    token = rf"(?:[\d*?/,\-LW#]+|{NAME}(?:-{NAME})?(?:,{NAME}(?:-{NAME})?)*)"
    for n in (7, 6, 5):
        m = re.search(rf"(?<![\w:/-])({token}(?:[ \t]+{token}){{{n - 1}}})(?![\w:/-])", text)
        if m and looks_like_cron(m.group(1)):
            found = m.group(1).split()
            while len(found) > 5 and found[-1] == "?":  # a question mark ending the sentence
                found.pop()
            rest = text[m.end() :].split("\n", 1)[0].strip()
            rest = re.split(r"(?i),\s+(?=(?:when|what|how|why|and|please|explain|is|does|next)\b)", rest)[0]
            command = rest if len(found) == 5 and re.match(r"[/~.$\w]", rest) and "/" in rest else ""
            return " ".join(found), command
    return "", ""


def looks_like_cron(s: str) -> bool:
    if s.startswith("@"):
        return s.lower() in MACROS or s.lower() == "@reboot"
    parts = s.split()
    if not 5 <= len(parts) <= 7:
        return False
    ok = sum(bool(re.fullmatch(rf"[\d*?/,\-LW#]+|(?i:{NAME}([-,]{NAME})*)", p)) for p in parts)
    return ok == len(parts) and any(re.search(r"[\d*]", p) for p in parts[:2])


def parse_field(raw: str, index: int) -> tuple[set[int], bool]:
    name, lo, hi = FIELDS[index]
    text = raw.strip().lower()
    if text == "?":
        text = "*"
    values: set[int] = set()
    for part in text.split(","):
        if not part:
            raise Refusal(f"The {name} field {raw!r} has an empty list item.")
        step = 1
        if "/" in part:
            base, _, step_s = part.partition("/")
            if not step_s.isdigit() or int(step_s) == 0:
                raise Refusal(f"The {name} field {raw!r} has a bad step {step_s!r}: use a positive number.")
            step = int(step_s)
        else:
            base = part
        if base == "*":
            start, end = lo, hi if index != 4 else 6
        elif "-" in base:
            a, _, b = base.partition("-")
            start, end = value_of(a, index, raw), value_of(b, index, raw)
            if start > end:
                if index == 4 and end == 0:
                    end = 7
                else:
                    raise Refusal(f"The {name} range {base!r} runs backwards; write it low-high.")
        else:
            start = value_of(base, index, raw)
            end = hi if "/" in part else start
            if index == 4 and "/" in part:
                end = 6
        values.update(range(start, end + 1, step))
    if index == 4 and 7 in values:
        values.discard(7)
        values.add(0)
    return values, text.startswith("*")


def value_of(token: str, index: int, raw: str) -> int:
    name, lo, hi = FIELDS[index]
    if re.fullmatch(r"\d*[lw]|\d+#\d+|lw", token):
        raise Refusal(
            f"The {name} field {raw!r} uses L, W or # (Quartz/cronie extensions); this reads standard 5-field cron."
        )
    if token.isdigit():
        v = int(token)
    elif index == 3 and token[:3] in MONTHS:
        v = MONTHS[token[:3]]
    elif index == 4 and token[:3] in DAYS:
        v = DAYS[token[:3]]
    else:
        raise Refusal(f"The {name} field {raw!r} has {token!r}, which is not a number or a known name.")
    if not lo <= v <= hi:
        raise Refusal(f"The {name} value {v} is out of range {lo}-{hi}.")
    return v


def parse_start(text: str) -> tuple[datetime, bool]:
    m = re.search(
        r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2}))?)?",
        text,
    )
    if not m:
        return DEFAULT_START, False
    y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
    h = int(m.group(4) or 0)
    mi = int(m.group(5) or 0)
    s = int(m.group(6) or 0)
    try:
        start = datetime(y, mo, d, h, mi)
    except ValueError:
        raise Refusal(f"The start time {m.group(0)!r} is not a real date/time.") from None
    if s:
        start += timedelta(minutes=1)  # a run needs a whole minute: the next one at or after the start
    return start, True


# --------------------------------------------------------------------------- words


def join_words(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def runs_of(values: list[int]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for v in values:
        if out and v == out[-1][1] + 1:
            out[-1] = (out[-1][0], v)
        else:
            out.append((v, v))
    return out


def step_of(values: list[int], lo: int, hi: int) -> int:
    if len(values) < 3 or values[0] != lo:
        return 0
    d = values[1] - values[0]
    if all(b - a == d for a, b in pairwise(values)) and values[-1] + d > hi:
        return d
    return 0


def list_words(values: list[int], namer) -> str:  # type: ignore[no-untyped-def]
    parts = []
    for a, b in runs_of(values):
        if b - a >= 2:
            parts.append(f"{namer(a)} through {namer(b)}")
        elif b == a + 1:
            parts.extend([namer(a), namer(b)])
        else:
            parts.append(namer(a))
    return join_words(parts)


def time_words(minutes: list[int], hours: list[int], m_star: bool, h_star: bool) -> str:
    all_m, all_h = len(minutes) == 60, len(hours) == 24
    m_step, h_step = step_of(minutes, 0, 59), step_of(hours, 0, 23)
    if all_m and all_h:
        return "every minute"
    if all_m:
        return f"every minute during hour{'s' if len(hours) > 1 else ''} {hour_span(hours)}"
    if len(minutes) * len(hours) <= 6:
        times = [f"{h:02d}:{m:02d}" for h in hours for m in minutes]
        return "at " + join_words(times)
    if all_h:
        if m_step:
            return f"every {m_step} minutes"
        return f"at minute{'s' if len(minutes) > 1 else ''} {list_words(minutes, str)} of every hour"
    hour_runs = runs_of(hours)
    if m_step and len(hour_runs) == 1 and not h_step:
        a, b = hour_runs[0]
        return f"every {m_step} minutes from {a:02d}:00 through {b:02d}:{minutes[-1]:02d}"
    if m_step:
        when = f"every {m_step} minutes"
    elif len(minutes) == 1:
        when = f"at minute {minutes[0]}"
    else:
        when = f"at minutes {list_words(minutes, str)}"
    if h_step:
        return f"{when} past every {h_step}th hour (hours {list_words(hours, lambda h: f'{h:02d}')})".replace(
            "every 2th", "every 2nd"
        ).replace("every 3th", "every 3rd")
    return f"{when} past hour{'s' if len(hours) > 1 else ''} {hour_span(hours)}"


def hour_span(hours: list[int]) -> str:
    return list_words(hours, lambda h: f"{h:02d}")


def day_words(dom: list[int], months: list[int], dow: list[int], dom_star: bool, dow_star: bool) -> str:
    bits = []
    dom_all, dow_all, mon_all = len(dom) == 31, len(dow) == 7, len(months) == 12

    def ordinal(n: int) -> str:
        suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
        return f"{n}{suffix}"

    day_part = ""
    dom_text = f"on the {list_words(dom, ordinal)} of the month" if not dom_all else ""
    dow_text = f"on {list_words(sorted(dow, key=lambda d: (d == 0, d)), lambda d: DAY_NAMES[d])}" if not dow_all else ""
    if dom_star and dow_star:
        day_part = "every day" if mon_all else ""
    elif dom_star:
        day_part = dow_text
    elif dow_star:
        day_part = dom_text
    else:
        day_part = f"{dom_text}, and also {dow_text} (cron matches either)"
    if day_part:
        bits.append(day_part)
    if not mon_all:
        bits.append(f"in {list_words(months, lambda m: MONTH_NAMES[m])}")
    return ", ".join(bits)


# --------------------------------------------------------------------------- schedule


def next_runs(sets: list[set[int]], stars: list[bool], start: datetime, count: int) -> list[datetime]:
    minutes, hours, dom, months, dow = (sorted(s) for s in sets)
    dom_star, dow_star = stars[2], stars[4]
    out: list[datetime] = []
    day = start.replace(hour=0, minute=0)
    limit = start + timedelta(days=366 * 28)  # a Feb 29 on a given weekday can take 28 years
    while day <= limit and len(out) < count:
        if day.month in months:
            wd = (day.weekday() + 1) % 7  # Python Monday=0 -> cron Sunday=0
            in_dom, in_dow = day.day in dom, wd in dow
            match = (in_dom and in_dow) if (dom_star or dow_star) else (in_dom or in_dow)
            if match:
                for h in hours:
                    for m in minutes:
                        t = day.replace(hour=h, minute=m)
                        if t >= start:
                            out.append(t)
                            if len(out) >= count:
                                return out
            day += timedelta(days=1)
        else:
            # jump to the first day of the next month
            y, mo = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
            day = day.replace(year=y, month=mo, day=1)
    return out


def main() -> int:
    try:
        text = sys.stdin.buffer.read().decode("utf-8", "replace")
    except (OSError, ValueError):
        text = ""
    expr, command = find_expression(text)
    if not expr:
        raise Refusal(
            "Give the cron expression in backticks, e.g. explain `30 2 * * 1-5` (5 fields: minute hour "
            "day-of-month month day-of-week) or a macro like @daily."
        )
    if expr == "@reboot":
        print("# Cron `@reboot`\nRuns once when the cron daemon starts (usually at boot); it has no clock times.")
        return 0
    macro = ""
    if expr in MACROS:
        macro, expr = expr, MACROS[expr]
    fields = expr.split()
    if len(fields) == 6:
        raise Refusal(
            f"`{expr}` has 6 fields: a seconds field (Quartz/Spring) or a year or a command? Give the 5 standard "
            "fields (minute hour day-of-month month day-of-week)."
        )
    if len(fields) != 5:
        raise Refusal(
            f"`{expr}` has {len(fields)} fields; standard cron has 5: minute hour day-of-month month day-of-week."
        )
    sets: list[set[int]] = []
    stars: list[bool] = []
    for i, f in enumerate(fields):
        vals, star = parse_field(f, i)
        sets.append(vals)
        stars.append(star)
    m = re.search(r"(?i)\bnext\s+(\d+)|\b(\d+)\s+(?:next\s+)?(?:runs|times|occurrences|executions)", text)
    count = 5
    if m:
        count = max(1, min(50, int(m.group(1) or m.group(2))))
    start, given = parse_start(text)
    minutes, hours, dom, months, dow = (sorted(s) for s in sets)
    words = time_words(minutes, hours, stars[0], stars[1])
    days = day_words(dom, months, dow, stars[2], stars[4])
    sentence = words + (", " + days if days else "")
    sentence = sentence[0].upper() + sentence[1:] + "."
    out = [f"# Cron `{macro or expr}`" + (f" (= `{expr}`)" if macro else "")]
    out.append("")
    out.append(f"**{sentence}**")
    if command:
        out.append(f"Command: `{command}`")
    out.append("")
    out.append("| field | value | means |")
    out.append("|---|---|---|")
    namers = [str, lambda h: f"{h:02d}", str, lambda mo: MONTH_NAMES[mo][:3], lambda d: DAY_NAMES[d][:3]]
    for (name, lo, hi), raw, vals, namer in zip(FIELDS, fields, sets, namers, strict=True):
        full = len(vals) == (hi - lo + 1 if name != "day of week" else 7)
        shown = (
            "every value"
            if full
            else list_words(sorted(vals, key=lambda d: (name == "day of week" and d == 0, d)), namer)
        )
        out.append(f"| {name} | `{raw}` | {shown} |")
    if not stars[2] and not stars[4]:
        out.append("")
        out.append(
            "Note: day-of-month and day-of-week are both set, so cron runs on days matching EITHER one "
            "(not both) - a common surprise."
        )
    impossible = (
        not stars[2] and stars[4] and all(all(d > calendar.monthrange(2024, mo)[1] for d in dom) for mo in months)
    )
    if impossible:
        out.append("")
        out.append("**This never runs**: none of the chosen days exist in the chosen months.")
        print("\n".join(out))
        return 0
    runs = next_runs(sets, stars, start, count)
    out.append("")
    origin = (
        f"from {start:%Y-%m-%d %H:%M}" if given else f"from {start:%Y-%m-%d %H:%M} (no start time given: the default)"
    )
    out.append(f"## Next {len(runs)} run{'s' if len(runs) != 1 else ''} {origin}")
    for t in runs:
        out.append(f"- {t:%a %Y-%m-%d %H:%M}")
    if len(runs) < count:
        out.append(f"(only {len(runs)} runs in the next 28 years)")
    if len(runs) >= 3:
        gaps = {b - a for a, b in pairwise(runs)}
        if len(gaps) == 1:
            gap = gaps.pop()
            out.append(f"Interval: {fmt_delta(gap)} between runs.")
    out.append("")
    out.append(
        "Times are in the time zone of the machine running cron (or CRON_TZ / TZ if set); a DST change "
        "can skip or repeat runs between 01:00 and 03:00."
    )
    print("\n".join(out))
    return 0


def fmt_delta(d: timedelta) -> str:
    mins = int(d.total_seconds() // 60)
    if mins % (60 * 24) == 0:
        n = mins // (60 * 24)
        return f"{n} day{'s' if n != 1 else ''}"
    if mins % 60 == 0:
        n = mins // 60
        return f"{n} hour{'s' if n != 1 else ''}"
    return f"{mins} minute{'s' if mins != 1 else ''}"


if __name__ == "__main__":
    try:
        status = main()
    except Refusal as exc:
        print(exc)
        status = 2
    except Exception as exc:  # a bug: one line, never a traceback
        print(f"cron.py failed unexpectedly: {type(exc).__name__}: {exc}")
        status = 1
    sys.exit(status)
