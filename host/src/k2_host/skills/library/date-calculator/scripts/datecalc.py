"""Calendar arithmetic: days between dates, a date plus or minus a duration, the weekday and facts of a date.

Usage:
    python3 datecalc.py < request.txt

Dates may be ISO (2024-03-05, 2024-03-05 14:30), written out (March 5, 2024 / 5 March 2024 / Mar 5th 2024),
numeric (03/05/2024 is read as month/day unless the first number is over 12; 05.03.2024 is day.month), or
today / tomorrow / yesterday / next friday (the machine's clock, or the K2_TODAY environment variable as
YYYY-MM-DD). Durations: "2 years 3 months 10 days", "90 days", "6 weeks", "10 business days", "36 hours",
"1h30m", ISO 8601 "P1Y2M10D". "before", "ago", "earlier", "minus", "subtract" go backwards.
Exit 2 (one sentence) when no date or an impossible date is found.
"""

from __future__ import annotations

import calendar
import os
import re
import sys
from dataclasses import dataclass
from datetime import date, datetime, timedelta


class Refusal(Exception):
    """The request cannot be handled; the message is one sentence for the user."""


WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "oct": 10,
    "nov": 11, "dec": 12,
}  # fmt: skip
NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20, "thirty": 30, "hundred": 100,
}  # fmt: skip

MONTH_RE = (
    r"(?P<mon>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
)
DAY_RE = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
WEEKDAY_RE = r"(?:(?P<wd>mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)(?:day|nesday|rsday|urday|sday)?\.?,?\s+)?"
TIME_RE = re.compile(
    r"\s*(?:at\s+|@\s*|T|,\s*)?(?:(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2}))?\s*(?P<ap>[ap]\.?m\.?)?"
    r"|(?P<h2>\d{1,2})\s*(?P<ap2>[ap]\.?m\.?)|(?P<word>noon|midnight))(?![\w:])",
    re.I,
)
DATE_PATTERNS = [
    ("iso", re.compile(r"\b(?P<y>\d{4})([-/.])(?P<m>\d{1,2})\2(?P<d>\d{1,2})(?!\d)")),
    ("mdy", re.compile(rf"\b{WEEKDAY_RE}{MONTH_RE}\s+{DAY_RE}(?:(?:\s*,\s*|\s+)(?P<year>\d{{4}}))?\b", re.I)),
    (
        "dmy",
        re.compile(rf"\b{WEEKDAY_RE}(?:the\s+)?{DAY_RE}\s+(?:of\s+)?{MONTH_RE}(?:\s*,?\s*(?P<year>\d{{4}}))?\b", re.I),
    ),
    ("num", re.compile(r"\b(?P<a>\d{1,2})(?P<sep>[/.])(?P<b>\d{1,2})(?P=sep)(?P<y>\d{4}|\d{2})\b")),
    ("compact", re.compile(r"\b(?P<y>(?:19|20)\d{2})(?P<m>[01]\d)(?P<d>[0-3]\d)\b")),
    (
        "rel",
        re.compile(r"\b(?P<rel>today|tomorrow|yesterday|now|the day after tomorrow|the day before yesterday)\b", re.I),
    ),
    (
        "wd",
        re.compile(
            r"\b(?P<which>next|last|this|coming|previous)\s+"
            r"(?P<wday>monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b",
            re.I,
        ),
    ),
]
HOLIDAYS = {
    "christmas eve": (12, 24), "christmas day": (12, 25), "christmas": (12, 25), "xmas": (12, 25),
    "new year's eve": (12, 31), "new years eve": (12, 31), "new year's day": (1, 1), "new years day": (1, 1),
    "new year": (1, 1), "halloween": (10, 31), "valentine's day": (2, 14), "valentines day": (2, 14),
    "valentine's": (2, 14), "st patrick's day": (3, 17), "independence day": (7, 4), "the fourth of july": (7, 4),
    "boxing day": (12, 26), "groundhog day": (2, 2), "pi day": (3, 14),
}  # fmt: skip
HOLIDAY_RE = re.compile(
    r"\b(?P<hol>"
    + "|".join(re.escape(h) for h in sorted(HOLIDAYS, key=len, reverse=True))
    + r")\b(?:\s*,?\s*(?P<year>\d{4}))?",
    re.I,
)
MONTH_YEAR = re.compile(rf"\b{MONTH_RE}\s*,?\s+(?P<year>\d{{4}})\b", re.I)
UNIT_WORDS = [
    (r"business days?|working days?|work days?|weekdays?|workdays?", "bday"),
    (r"years?|yrs?", "year"),
    (r"decades?", "decade"),
    (r"quarters?", "quarter"),
    (r"months?|mos?|mths?", "month"),
    (r"fortnights?", "fortnight"),
    (r"weeks?|wks?", "week"),
    (r"days?", "day"),
    (r"hours?|hrs?", "hour"),
    (r"minutes?|mins?", "minute"),
    (r"seconds?|secs?", "second"),
]
DURATION = re.compile(
    r"(?<![\w.])(?P<n>\d+(?:\.\d+)?|"
    + "|".join(NUMBER_WORDS)
    + r")[\s-]+(?P<u>"
    + "|".join(p for p, _ in UNIT_WORDS)
    + r")\b",
    re.I,
)
SHORT_TOKEN = re.compile(r"(?<![\w.])(?:\d+(?:y|mo|w|d|h|m|s))+(?![\w])")
SHORT_DURATION = re.compile(r"(?P<n>\d+)(?P<u>y|mo|w|d|h|m|s)")
ISO_DURATION = re.compile(
    r"\bP(?:(?P<Y>\d+)Y)?(?:(?P<M>\d+)M)?(?:(?P<W>\d+)W)?(?:(?P<D>\d+)D)?"
    r"(?:T(?:(?P<H>\d+)H)?(?:(?P<MI>\d+)M)?(?:(?P<S>\d+)S)?)?\b"
)
BACKWARD = re.compile(
    r"\b(?:before|ago|earlier|prior to|minus|subtract(?:ed|ing)?|take away|back from|go back|went back|less)\b"
    r"|(?<![\w-])-\s*(?=\d+\s*[a-z])",
    re.I,
)


def today() -> date:
    forced = os.environ.get("K2_TODAY", "").strip()
    if forced:
        try:
            return date.fromisoformat(forced)
        except ValueError:
            raise Refusal("K2_TODAY must be a date like 2025-01-31.") from None
    return date.today()


@dataclass
class Found:
    start: int
    end: int
    when: datetime
    has_time: bool
    text: str
    note: str = ""
    relative: bool = False


def _make(y: int, m: int, d: int, text: str) -> date:
    try:
        return date(y, m, d)
    except ValueError:
        if 1 <= m <= 12:
            last = calendar.monthrange(y, m)[1] if 1 <= y <= 9999 else 31
            raise Refusal(
                f"'{text.strip()}' is not a real date: {calendar.month_name[m]} {y} has {last} days."
            ) from None
        raise Refusal(f"'{text.strip()}' is not a real date (month {m} does not exist).") from None


def find_dates(text: str) -> list[Found]:
    found: list[Found] = []
    taken: list[tuple[int, int]] = []
    base = today()
    years_given = [int(y) for y in re.findall(r"\b(1[5-9]\d{2}|2\d{3})\b", text)]
    for kind, pat in [*DATE_PATTERNS, ("hol", HOLIDAY_RE)]:
        for m in pat.finditer(text):
            if any(m.start() < e and s < m.end() for s, e in taken):
                continue
            g = m.groupdict()
            note = ""
            rel = False
            if kind in ("iso", "compact"):
                d = _make(int(g["y"]), int(g["m"]), int(g["d"]), m.group(0))
            elif kind in ("mdy", "dmy"):
                mon = MONTHS[g["mon"][:3].lower()]
                if g["mon"].lower() == "may" and kind == "mdy" and not g["year"] and not g["day"]:
                    continue
                if g.get("year"):
                    year = int(g["year"])
                elif years_given:
                    year = years_given[0]
                    note = f"no year given for '{m.group(0).strip()}'; used {year} from the request"
                else:
                    year = base.year
                    note = f"no year given for '{m.group(0).strip()}'; used the current year {year}"
                    rel = True
                d = _make(year, mon, int(g["day"]), m.group(0))
                if g.get("wd"):
                    said = g["wd"][:3].lower()
                    real = WEEKDAYS[d.weekday()]
                    if real[:3].lower() != said:
                        note = f"'{m.group(0).strip()}': {d.isoformat()} is a {real}, not the weekday written"
            elif kind == "num":
                a, b, y = int(g["a"]), int(g["b"]), int(g["y"])
                if y < 100:
                    y += 2000 if y < 70 else 1900
                if g["sep"] == "." or a > 12:
                    day, mon = a, b
                elif b > 12:
                    mon, day = a, b
                else:
                    mon, day = a, b
                    if a != b:
                        alt = f"{y:04d}-{day:02d}-{mon:02d}"
                        note = f"read {m.group(0)} as month/day/year (US); write ISO {alt} for day/month"
                d = _make(y, mon, day, m.group(0))
            elif kind == "hol":
                mon, day = HOLIDAYS[g["hol"].lower().replace("\u2019", "'")]
                if g.get("year"):
                    d = _make(int(g["year"]), mon, day, m.group(0))
                elif years_given:
                    d = _make(years_given[0], mon, day, m.group(0))
                else:
                    d = date(base.year, mon, day)
                    if d < base:
                        d = date(base.year + 1, mon, day)
                    note = f"'{m.group(0).strip()}' read as the next one, {d.isoformat()}"
                    rel = True
            elif kind == "rel":
                word = g["rel"].lower()
                shift = {"today": 0, "now": 0, "tomorrow": 1, "yesterday": -1}.get(word)
                if shift is None:
                    shift = 2 if "after" in word else -2
                d = base + timedelta(days=shift)
                rel = True
            else:  # next/last weekday
                target = WEEKDAYS.index(g["wday"].capitalize())
                which = g["which"].lower()
                delta = (target - base.weekday()) % 7
                if which in ("next", "coming"):
                    delta = delta or 7
                elif which in ("last", "previous"):
                    delta = -((base.weekday() - target) % 7 or 7)
                d = base + timedelta(days=delta)
                rel = True
            end = m.end()
            has_time = False
            when = datetime(d.year, d.month, d.day)
            t = TIME_RE.match(text, end)
            if t:
                hh, mm, ss = _time_parts(t)
                if hh is not None:
                    when = when.replace(hour=hh, minute=mm, second=ss)
                    has_time = True
                    end = t.end()
            if kind == "rel" and g["rel"].lower() == "now":
                has_time = False
            found.append(Found(m.start(), end, when, has_time, m.group(0), note, rel))
            taken.append((m.start(), end))
    found.sort(key=lambda f: f.start)
    return found


def _time_parts(t: re.Match[str]) -> tuple[int | None, int, int]:
    if t.group("word"):
        return (12 if t.group("word").lower() == "noon" else 0), 0, 0
    if t.group("h") is not None:
        hh, mm, ss = int(t.group("h")), int(t.group("mi")), int(t.group("s") or 0)
        ap = t.group("ap")
    else:
        hh, mm, ss, ap = int(t.group("h2")), 0, 0, t.group("ap2")
    if ap:
        if not 1 <= hh <= 12:
            raise Refusal(f"'{t.group(0).strip()}' is not a valid 12-hour time.")
        hh = hh % 12 + (12 if ap.lower().startswith("p") else 0)
    if hh > 23 or mm > 59 or ss > 59:
        raise Refusal(f"'{t.group(0).strip()}' is not a valid time of day.")
    return hh, mm, ss


@dataclass
class Duration:
    years: int = 0
    months: int = 0
    days: float = 0
    seconds: float = 0
    bdays: int = 0
    text: str = ""

    def empty(self) -> bool:
        return not (self.years or self.months or self.days or self.seconds or self.bdays)


def find_durations(text: str, dates: list[Found]) -> Duration:
    masked = list(text)
    for f in dates:
        for i in range(f.start, f.end):
            masked[i] = " "
    s = "".join(masked)
    dur = Duration()
    parts: list[str] = []

    def add(n: float, unit: str, raw: str) -> None:
        whole_only = unit in ("year", "decade", "quarter", "month", "bday")
        if whole_only and n != int(n):
            raise Refusal(f"'{raw}': use whole numbers of {unit}s (or convert to days).")
        if unit == "year":
            dur.years += int(n)
        elif unit == "decade":
            dur.years += 10 * int(n)
        elif unit == "quarter":
            dur.months += 3 * int(n)
        elif unit == "month":
            dur.months += int(n)
        elif unit == "fortnight":
            dur.days += 14 * n
        elif unit == "week":
            dur.days += 7 * n
        elif unit == "day":
            dur.days += n
        elif unit == "bday":
            dur.bdays += int(n)
        elif unit == "hour":
            dur.seconds += 3600 * n
        elif unit == "minute":
            dur.seconds += 60 * n
        else:
            dur.seconds += n
        parts.append(raw.strip())

    for m in ISO_DURATION.finditer(s):
        if m.group(0) == "P":
            continue
        g = {k: int(v) for k, v in m.groupdict().items() if v}
        if not g:
            continue
        for key, unit in (("Y", "year"), ("M", "month"), ("W", "week"), ("D", "day"), ("H", "hour")):
            if key in g:
                add(g[key], unit, f"{g[key]}{key}")
        if "MI" in g:
            add(g["MI"], "minute", f"{g['MI']}M")
        if "S" in g:
            add(g["S"], "second", f"{g['S']}S")
        s = s[: m.start()] + " " * (m.end() - m.start()) + s[m.end() :]
    for m in DURATION.finditer(s):
        raw_n = m.group("n").lower()
        n = float(NUMBER_WORDS[raw_n]) if raw_n in NUMBER_WORDS else float(raw_n)
        word = m.group("u").lower()
        unit = next(u for p, u in UNIT_WORDS if re.fullmatch(p, word))
        if raw_n in ("a", "an") and unit in ("day",) and re.search(r"\bper\b", s[m.end() : m.end() + 6]):
            continue
        add(n, unit, m.group(0))
    s2 = DURATION.sub(lambda m: " " * len(m.group(0)), s)
    short = {"y": "year", "mo": "month", "w": "week", "d": "day", "h": "hour", "m": "minute", "s": "second"}
    for tok in SHORT_TOKEN.finditer(s2):
        for m in SHORT_DURATION.finditer(tok.group(0)):
            add(float(m.group("n")), short[m.group("u")], m.group(0))
    dur.text = ", ".join(parts)
    return dur


# --------------------------------------------------------------------------- arithmetic


def add_months(d: datetime, months: int) -> tuple[datetime, bool]:
    """d moved by whole months; the day is clamped to the month's end (Jan 31 + 1 month = Feb 28/29)."""
    total = d.year * 12 + (d.month - 1) + months
    y, m = divmod(total, 12)
    if not 1 <= y <= 9999:
        raise Refusal("The result is outside the years 1 to 9999.")
    last = calendar.monthrange(y, m + 1)[1]
    clamped = d.day > last
    return d.replace(year=y, month=m + 1, day=min(d.day, last)), clamped


def add_business_days(d: datetime, n: int) -> datetime:
    step = 1 if n >= 0 else -1
    left = abs(n)
    cur = d
    while left:
        cur += timedelta(days=step)
        if cur.weekday() < 5:
            left -= 1
    return cur


def business_days_between(a: date, b: date) -> int:
    """Weekdays after a up to and including b (a <= b)."""
    days = (b - a).days
    full, rest = divmod(days, 7)
    count = full * 5
    wd = a.weekday()
    for i in range(1, rest + 1):
        if (wd + i) % 7 < 5:
            count += 1
    return count


def calendar_diff(a: datetime, b: datetime) -> tuple[int, int, int]:
    """Years, months, days from a to b (a <= b), months counted with end-of-month clamping."""
    months = (b.year - a.year) * 12 + (b.month - a.month)
    while months > 0 and add_months(a, months)[0] > b:
        months -= 1
    mid = add_months(a, months)[0]
    return months // 12, months % 12, (b - mid).days


def plural(n: int | float, word: str) -> str:
    n_txt = f"{n:g}" if isinstance(n, float) else f"{n:,}"
    return f"{n_txt} {word}{'' if n == 1 else 's'}"


def fmt(d: datetime, with_time: bool) -> str:
    s = d.date().isoformat()
    if with_time:
        s += " " + d.strftime("%H:%M" + (":%S" if d.second else ""))
    return f"{s} ({WEEKDAYS[d.weekday()]})"


def date_facts(d: date) -> list[str]:
    iso = d.isocalendar()
    leap = calendar.isleap(d.year)
    doy = d.timetuple().tm_yday
    days_in_year = 366 if leap else 365
    month_len = calendar.monthrange(d.year, d.month)[1]
    return [
        f"Day {doy} of {days_in_year} ({plural(days_in_year - doy, 'day')} left in {d.year}; {d.year} is "
        f"{'a leap year' if leap else 'not a leap year'})",
        f"ISO week {iso[0]}-W{iso[1]:02d}-{iso[2]} · quarter Q{(d.month - 1) // 3 + 1} · "
        f"{calendar.month_name[d.month]} has {month_len} days",
    ]


def describe_span(a: Found, b: Found, lines: list[str]) -> None:
    x, y = a.when, b.when
    timed = a.has_time or b.has_time
    sign = 1
    if y < x:
        x, y = y, x
        sign = -1
    lines.append(f"# {fmt(a.when, timed)} → {fmt(b.when, timed)}")
    lines.append("")
    delta = y - x
    days = delta.days
    if timed:
        hours, rem = divmod(delta.seconds, 3600)
        minutes, secs = divmod(rem, 60)
        bits = (
            ([plural(days, "day")] if days else [])
            + ([plural(hours, "hour")] if hours else [])
            + ([plural(minutes, "minute")] if minutes else [])
            + ([plural(secs, "second")] if secs else [])
        )
        total_h = delta.total_seconds() / 3600
        lines.append(f"- **{' '.join(bits)}**{' (the second is earlier)' if sign < 0 else ''}")
        lines.append(f"- = {total_h:,.2f} hours = {delta.total_seconds() / 60:,.0f} minutes".replace(".00 ", " "))
    else:
        back = " (the second date is earlier)" if sign < 0 else ""
        lines.append(f"- **{plural(days, 'day')}**{back}")
        w, r = divmod(days, 7)
        if w:
            lines.append(f"- = {plural(w, 'week')}" + (f" {plural(r, 'day')}" if r else ""))
    yy, mm, dd = calendar_diff(x, y)
    if yy or mm:
        cal = " ".join(p for p in (plural(yy, "year") if yy else "", plural(mm, "month") if mm else "") if p)
        lines.append(f"- Calendar: {cal}" + (f" {plural(dd, 'day')}" if dd else ""))
    if not timed:
        lines.append(f"- Counting both the first and the last day: {plural(days + 1, 'day')}")
        bd = business_days_between(x.date(), y.date())
        lines.append(f"- Business days (Mon-Fri, no holidays, end date counted): {bd:,} · weekend days: {days - bd:,}")
        if days >= 1:
            lines.append(f"- In hours: {days * 24:,} · in minutes: {days * 1440:,} · in seconds: {days * 86400:,}")


def apply_duration(anchor: Found, dur: Duration, sign: int, lines: list[str]) -> None:
    start = anchor.when
    cur = start
    steps: list[str] = []
    timed = anchor.has_time or bool(dur.seconds) or (dur.days != int(dur.days))
    if dur.years or dur.months:
        total = sign * (dur.years * 12 + dur.months)
        cur, clamped = add_months(cur, total)
        ym = [plural(dur.years, "year") if dur.years else "", plural(dur.months, "month") if dur.months else ""]
        label = " ".join(p for p in ym if p)
        clamp = ""
        if clamped:
            clamp = f" (day {start.day} does not exist in {calendar.month_name[cur.month]}; clamped to the last day)"
        steps.append(f"{'+' if sign > 0 else '-'} {label} → {fmt(cur, timed)}{clamp}")
    if dur.days or dur.seconds:
        try:
            cur = cur + sign * timedelta(days=dur.days, seconds=dur.seconds)
        except OverflowError:
            raise Refusal("The result is outside the years 1 to 9999.") from None
        label = " ".join(p for p in (_days_label(dur.days), _secs_label(dur.seconds)) if p)
        steps.append(f"{'+' if sign > 0 else '-'} {label} → {fmt(cur, timed)}")
    if dur.bdays:
        cur = add_business_days(cur, sign * dur.bdays)
        steps.append(
            f"{'+' if sign > 0 else '-'} {plural(dur.bdays, 'business day')} (weekends skipped, no holidays) → "
            f"{fmt(cur, timed)}"
        )
    word = "after" if sign > 0 else "before"
    lines.append(f"# {dur.text} {word} {fmt(start, timed)}")
    lines.append("")
    lines.append(f"**{fmt(cur, timed)}**")
    lines.append("")
    if len(steps) > 1 or (steps and "clamped" in steps[0]):
        lines.append("Steps (years and months first, then weeks and days, then business days):")
        lines += [f"- {s}" for s in steps]
    span = (cur - start) if sign > 0 else (start - cur)
    if dur.years or dur.months or dur.bdays:
        lines.append(f"- That is {plural(span.days, 'day')} {'later' if sign > 0 else 'earlier'}.")
    lines += [f"- {f}" for f in date_facts(cur.date())]


def _days_label(days: float) -> str:
    if not days:
        return ""
    if days == int(days) and int(days) % 7 == 0 and days >= 7:
        return plural(int(days) // 7, "week")
    return plural(int(days) if days == int(days) else days, "day")


def _secs_label(secs: float) -> str:
    if not secs:
        return ""
    h, rem = divmod(secs, 3600)
    m, s = divmod(rem, 60)
    out = []
    if h:
        out.append(plural(int(h) if h == int(h) else h, "hour"))
    if m:
        out.append(plural(int(m) if m == int(m) else m, "minute"))
    if s:
        out.append(plural(int(s) if s == int(s) else s, "second"))
    return " ".join(out)


def month_or_year_info(text: str, lines: list[str]) -> bool:
    my = MONTH_YEAR.search(text)
    if my and re.search(r"\bdays?\b|\blong\b|\bweekdays?\b|\bbusiness\b|\bstart|\bbegin|\bcalendar\b", text, re.I):
        mon = MONTHS[my.group("mon")[:3].lower()]
        year = int(my.group("year"))
        n = calendar.monthrange(year, mon)[1]
        first = date(year, mon, 1)
        last = date(year, mon, n)
        bd = business_days_between(first - timedelta(days=1), last)
        lines.append(f"# {calendar.month_name[mon]} {year}")
        lines.append("")
        lines.append(
            f"- **{n} days**, from {fmt(datetime(year, mon, 1), False)} to {fmt(datetime(year, mon, n), False)}"
        )
        lines.append(f"- Weekdays (Mon-Fri): {bd} · weekend days: {n - bd}")
        lines.append(f"- {year} is {'a leap year' if calendar.isleap(year) else 'not a leap year'}")
        lines.append("")
        lines.append("```text")
        lines += calendar.TextCalendar(calendar.MONDAY).formatmonth(year, mon).rstrip().splitlines()
        lines.append("```")
        return True
    ly = re.search(r"\b(\d{4})\b", text)
    if ly and re.search(r"\bleap\b", text, re.I):
        y = int(ly.group(1))
        leap = calendar.isleap(y)
        lines.append(f"# {y}")
        lines.append("")
        if y % 400 == 0:
            why = "divisible by 400"
        elif y % 100 == 0:
            why = "divisible by 100 but not by 400"
        else:
            why = "divisible by 4" if y % 4 == 0 else "not divisible by 4"
        lines.append(
            f"- **{y} is {'a leap year' if leap else 'not a leap year'}** ({why}; {366 if leap else 365} days)"
        )
        nxt = next(z for z in range(y + 1, y + 9) if calendar.isleap(z))
        lines.append(f"- Next leap year after {y}: {nxt}")
        return True
    return False


def _times_on_one_day(text: str, dates: list[Found]) -> list[Found] | None:
    """'from 9am to 5:30pm on 2024-03-01': two clock times on the one date given (or today)."""
    masked = list(text)
    for f in dates:
        for i in range(f.start, f.end):
            masked[i] = " "
    s = "".join(masked)
    times = []
    for m in re.finditer(r"(?<![\w:])(?=\d{1,2}(?::\d{2}|\s*[ap]\.?m)|noon|midnight)", s, re.I):
        t = TIME_RE.match(s, m.start())
        if t:
            hh, mm, ss = _time_parts(t)
            if hh is not None:
                times.append((m.start(), t.end(), hh, mm, ss, t.group(0).strip()))
    if len(times) < 2:
        return None
    if dates:
        day, rel = dates[0].when, dates[0].relative
    else:
        t0 = today()
        day, rel = datetime(t0.year, t0.month, t0.day), False
    out = []
    for start, end, hh, mm, ss, raw in times[:2]:
        out.append(Found(start, end, day.replace(hour=hh, minute=mm, second=ss), True, raw, "", rel))
    if out[1].when < out[0].when:
        out[1].when += timedelta(days=1)
        out[1].note = f"{out[1].text} is earlier in the day than {out[0].text}, so it is taken as the next day"
    return out


def main() -> int:
    try:
        text = sys.stdin.buffer.read().decode("utf-8", "replace")
    except (OSError, ValueError):
        text = ""
    text = re.sub(r"[`*]", " ", text).replace("\u2013", "-").replace("\u2014", " - ").strip()
    if not text:
        raise Refusal(
            "Give one or two dates, e.g. 'days between 2024-01-15 and 2024-03-01' or '90 days after 2025-03-03'."
        )
    lines: list[str] = []
    dates = find_dates(text)
    dur = find_durations(text, dates)
    sign = -1 if BACKWARD.search(text) else 1
    if len(dates) <= 1 and dur.empty():
        dates = _times_on_one_day(text, dates) or dates
    notes = [f.note for f in dates if f.note]
    wants_span = re.search(r"\b(?:until|till|til|since|how long|how many|between|ago was|left)\b", text, re.I)
    if not dates and (not dur.empty() and re.search(r"\bago\b|\bfrom (?:now|today)\b|\blater\b|\bin\b", text, re.I)):
        t = today()
        dates = [Found(0, 0, datetime(t.year, t.month, t.day), False, "today", "", True)]
    if not dates:
        if month_or_year_info(text, lines):
            print("\n".join(lines))
            return 0
        raise Refusal(
            "No date found; write dates like 2024-03-05 or 'March 5, 2024', e.g. "
            "'days between 2024-01-15 and 2024-03-01' or '90 days after 2025-03-03'."
        )
    if len(dates) >= 2 and dur.empty():
        describe_span(dates[0], dates[1], lines)
        if len(dates) > 2:
            notes.append(f"only the first two dates were compared ({len(dates)} found)")
    elif not dur.empty():
        anchor = dates[0]
        if len(dates) >= 2:
            notes.append("a duration and several dates were given; the duration was applied to the first date")
        apply_duration(anchor, dur, sign, lines)
    elif wants_span and len(dates) == 1:
        t = today()
        now = Found(0, 0, datetime(t.year, t.month, t.day), False, "today", "", True)
        first, second = (now, dates[0]) if dates[0].when >= now.when else (dates[0], now)
        describe_span(first, second, lines)
        dates.append(now)
    else:
        d = dates[0].when
        lines.append(f"# {dates[0].text.strip()}")
        lines.append("")
        stamp = d.date().isoformat() + (d.strftime(" %H:%M") if dates[0].has_time else "")
        lines.append(f"**{stamp} is a {WEEKDAYS[d.weekday()]}**")
        lines.append("")
        lines += [f"- {f}" for f in date_facts(d.date())]
    if any(f.relative for f in dates):
        notes.append(f"today is taken as {today().isoformat()} (the machine's clock; set K2_TODAY to fix it)")
    if any(f.has_time for f in dates) or dur.seconds:
        notes.append("times are wall-clock times without a time zone; daylight-saving changes are ignored")
    if notes:
        lines.append("")
        lines += [f"Note: {n}." for n in dict.fromkeys(notes)]
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    try:
        status = main()
    except Refusal as exc:
        print(exc)
        status = 2
    except Exception as exc:  # a bug: one line, never a traceback
        print(f"datecalc.py failed unexpectedly: {type(exc).__name__}: {exc}")
        status = 1
    sys.exit(status)
