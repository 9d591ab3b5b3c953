"""Action items from meeting notes: what is to be done, by whom and by when, plus the decisions taken.

Usage:
    python3 action_items.py notes/2024-03-12-sync.md [more.md ...] < request.txt

An item is a line under an "Action items" / "Next steps" / "To do" / "Follow-ups" heading or label, a
checkbox (`- [ ]`, `- [x]` = done), a line marked `Action:` / `AI:` / `TODO:`, or a sentence such as
"Bob to send the deck", "Alice will update the docs by Friday", "@chen: review the PR", "assigned to Dana".
Owners come from names (the "Attendees:" line helps), @handles and "owner:" notes; due dates from "by/before/
due/until <when>" and dates. Relative dates ("Friday", "next week", "tomorrow", "EOW") are resolved against
the meeting date (a date in the first lines or in the file name). The request may filter: "for Alice",
"open only". Exit 2 when no file can be read.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from dataclasses import dataclass
from pathlib import Path

MAX_OUT = 15_000
WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_WD = r"(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)(?:day|nesday|rsday|urday|sday)?"
MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_MON = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|"
    r"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
SECTION = re.compile(
    r"^(?:action items?|actions?|ais?|next steps?|to[- ]?dos?|tasks?|follow[- ]?ups?|assignments?|owners?|"
    r"action points?|takeaways? and actions|what'?s next)\b",
    re.IGNORECASE,
)
OTHER_SECTION = re.compile(
    r"^(?:decisions?|decided|agreed|notes?|discussion|agenda|attendees|participants|present|summary|"
    r"updates?|status|questions?|open questions?|risks?|blockers?|context|background|minutes)\b",
    re.IGNORECASE,
)
DECISION_SECTION = re.compile(r"^(?:decisions?(?: made)?|decided|agreements?|agreed|resolutions?)\b", re.IGNORECASE)
DASHES = "\u2013\u2014"  # en and em dash
NO_DATE = "\u2014"
MARKER = re.compile(
    r"^(?:\*\*|__)?(?:action(?: item)?|ai|todo|to-do|to do|follow[- ]?up|task|next step)(?:\*\*|__)?"
    rf"\s*[:\-{DASHES}]\s*(?:\*\*|__)?",
    re.IGNORECASE,
)
DECISION = re.compile(
    rf"^(?:\*\*|__)?(?:decision|decided|agreed|resolved)(?:\*\*|__)?\s*[:\-{DASHES}]\s*|^(?:we|the team|they|everyone) "
    r"(?:decided|agreed)\b",
    re.IGNORECASE,
)
CHECKBOX = re.compile(r"^\[( |x|X)\]\s+")
BULLET = re.compile(r"^\s*(?:[-*+•]|\d{1,3}[.)])\s+")
# words that start a sentence with a capital but are not people
_NOT_NAMES = """
    the a an we i you it they he she this that these those there here our my your their team everyone everybody
    all someone somebody nobody none action actions ai todo note notes next follow followup task tasks decision
    decided agreed owner owners due by before after on in at for to from with and or but if when then also please
    monday tuesday wednesday thursday friday saturday sunday today tomorrow tonight yesterday week month quarter
    january february march april may june july august september october november december jan feb mar apr jun
    jul aug sep sept oct nov dec eod eow eom asap tbd n/a q1 q2 q3 q4 hr it qa ux ui pr prs api ci cd ops
    engineering product design marketing sales finance legal support platform infra security data backend frontend
    mobile web staging production prod dev docs doc budget roadmap release launch meeting sync standup retro demo
"""
NOT_NAMES = set(_NOT_NAMES.split())
_IMPERATIVES = """
    add ask book call check clean close collect complete confirm contact create deploy document draft email file
    find finish fix follow investigate look merge migrate move open organize organise plan ping prepare publish
    reach remove review schedule send set share start talk test update upgrade verify write
"""
IMPERATIVES = set(_IMPERATIVES.split())
VERB_AFTER_NAME = (
    r"(?:will|'ll|to|is going to|are going to|is to|needs? to|should|must|has to|have to|agreed to|"
    r"volunteered to|offered to|promised to|owns|takes|is taking|can)"
)


class Refusal(Exception):
    """The request or input cannot be handled; the message is one sentence for the user."""


@dataclass
class Item:
    action: str
    owner: str
    due: str  # as written ("by Friday"), or ""
    resolved: str  # ISO date when known, or ""
    line: int
    done: bool
    source: str = ""


# ------------------------------------------------------------------------------------------------ dates


def meeting_date(name: str, lines: list[str]) -> dt.date | None:
    """The meeting's date: a date on a "Date:" line or in the first lines, else in the file name."""
    head = lines[:12]
    ordered = [ln for ln in head if re.match(r"(?i)\s*(?:\*\*)?date\b", ln)] + head + [name]
    for text in ordered:
        found = absolute_date(text, None)
        if found:
            return found
    return None


def _safe(y: int, m: int, d: int) -> dt.date | None:
    try:
        return dt.date(y, m, d)
    except ValueError:
        return None


def absolute_date(text: str, ref: dt.date | None) -> dt.date | None:
    m = re.search(r"(?<!\d)(\d{4})-(\d{1,2})-(\d{1,2})(?!\d)", text)
    if m:
        return _safe(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    m = re.search(rf"(?i)\b({_MON})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(\d{{4}}))?\b", text)
    if m:
        year = int(m.group(3)) if m.group(3) else (ref.year if ref else None)
        if year:
            found = _safe(year, MONTHS.index(m.group(1)[:3].lower()) + 1, int(m.group(2)))
            if found and ref and not m.group(3) and found < ref - dt.timedelta(days=60):
                found = _safe(year + 1, found.month, found.day)
            return found
    m = re.search(rf"(?i)\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({_MON})\.?(?:,?\s+(\d{{4}}))?\b", text)
    if m:
        year = int(m.group(3)) if m.group(3) else (ref.year if ref else None)
        if year:
            return _safe(year, MONTHS.index(m.group(2)[:3].lower()) + 1, int(m.group(1)))
    m = re.search(r"(?<![\d/])(\d{1,2})/(\d{1,2})(?:/(\d{2,4}))?(?![\d/])", text)
    if m and (m.group(3) or ref):
        year = int(m.group(3)) if m.group(3) else ref.year  # type: ignore[union-attr]
        year += 2000 if year < 100 else 0
        return _safe(year, int(m.group(1)), int(m.group(2)))
    return None


def resolve(when: str, ref: dt.date | None) -> dt.date | None:
    """A due phrase as a date, relative phrases against the meeting date."""
    low = when.lower()
    found = absolute_date(when, ref)
    if found:
        return found
    if ref is None:
        return None
    if re.search(r"\b(?:today|eod|end of (?:the )?day|tonight|cob|close of business)\b", low):
        return ref
    if "tomorrow" in low:
        return ref + dt.timedelta(days=1)
    m = re.search(rf"\b(next|this|coming)?\s*({_WD})\b", low)
    if m:
        target = next(i for i, d in enumerate(WEEKDAYS) if d.startswith(m.group(2)[:3]))
        if m.group(1) == "next":  # "next Friday": the Friday of next week
            return ref + dt.timedelta(days=7 - ref.weekday() + target)
        return ref + dt.timedelta(days=(target - ref.weekday()) % 7 or 7)  # the coming one
    if re.search(r"\b(?:eow|end of (?:the |this )?week)\b", low):
        return ref + dt.timedelta(days=(4 - ref.weekday()) % 7)
    if re.search(r"\bnext week\b", low):
        return ref + dt.timedelta(days=7 - ref.weekday() + 4)  # the Friday of next week
    m = re.search(r"\bin (\d+|a|one|two|three|four) (day|week|month)s?\b", low)
    if m:
        n = {"a": 1, "one": 1, "two": 2, "three": 3, "four": 4}.get(m.group(1)) or int(m.group(1))
        return ref + dt.timedelta(days=n * {"day": 1, "week": 7, "month": 30}[m.group(2)])
    if re.search(r"\b(?:eom|end of (?:the |this )?month)\b", low):
        nxt = (ref.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        return nxt - dt.timedelta(days=1)
    return None


DUE = re.compile(
    r"\s*[(\[,;\u2013\u2014-]?\s*\b(?:(?:due|deadline)\s*(?:by|on|date)?\s*:?\s*|by\s+|before\s+|until\s+|"
    r"no later than\s+|"
    r"(?=(?:next|this|coming)\s+" + _WD + r"\b)|on\s+(?=" + _WD + r"\b|\d))"
    r"((?:(?:next|this|the|end of|coming)\s+)*(?:" + _WD + r"|today|tomorrow|tonight|eod|eow|eom|cob|"
    r"(?:the\s+)?end of (?:the |this |next )?(?:day|week|month|sprint|quarter)|next week|next month|"
    r"(?:"
    + _MON
    + r")\.?\s+\d{1,2}(?:st|nd|rd|th)?(?:,?\s+\d{4})?|\d{1,2}(?:st|nd|rd|th)?\s+(?:of\s+)?"
    + _MON
    + r"\.?(?:\s+\d{4})?|\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}(?:/\d{2,4})?|q[1-4](?:\s+\d{4})?|"
    r"in (?:\d+|a|one|two|three|four) (?:days?|weeks?|months?))(?:\s+(?:" + _WD + r"))?)\b\s*[)\]]?",
    re.IGNORECASE,
)
LOOSE_DUE = re.compile(
    r"\b(today|tomorrow|eod|eow|asap|(?:next|this)\s+" + _WD + r"|next week|end of (?:the )?(?:day|week|month))\b",
    re.IGNORECASE,
)


# ------------------------------------------------------------------------------------------------ owners


def attendees(lines: list[str]) -> list[str]:
    for line in lines[:40]:
        m = re.match(
            r"(?i)\s*(?:\*\*)?(?:attendees|participants|present|people|who)(?:\*\*)?\s*:\s*(?:\*\*)?(.+)", line
        )
        if m:
            names = re.split(r",|;|\band\b|/", re.sub(r"\([^)]*\)", "", m.group(1)))
            return [n.strip(" *.@") for n in names if n.strip(" *.@")]
    return []


def is_name(word: str, known: list[str]) -> bool:
    clean = word.strip(" ,.:;*@")
    if not clean:
        return False
    if any(clean.lower() == k.lower() or clean.lower() == k.split()[0].lower() for k in known):
        return True
    return bool(re.fullmatch(r"[A-Z][a-z]+(?:[-'][A-Z]?[a-z]+)?", clean)) and clean.lower() not in NOT_NAMES


_NAME = r"@?[A-Z][\w'-]*(?:\s+[A-Z][\w'-]*)?"
OWNER_PATTERNS = (
    re.compile(
        r"[(\[]\s*(?:owner|owners|who|assignee|assigned to|responsible)\s*[:=]?\s*([^)\],;]+?)\s*"
        r"(?:[,;]\s*([^)\]]*))?[)\]]",
        re.I,
    ),
    re.compile(r"\b(?:owner|owners|assignee|responsible)\s*[:=]\s*([^,;.()]+)", re.I),
    re.compile(r"\bassigned to\s+(@?[\w'-]+(?:\s+(?:and|&)\s+@?[\w'-]+)*)", re.I),
)


def canonical(name: str, known: list[str]) -> str:
    """A name or @handle as the attendee list writes it (first name), else as given."""
    bare = name.strip(" @*.:")
    for k in known:
        first = k.split()[0]
        if bare.lower() in (k.lower(), first.lower()):
            return first
    return bare[:1].upper() + bare[1:] if bare.islower() and name.startswith("@") else bare


def split_names(text: str) -> list[str]:
    parts = re.split(r"\s*(?:,|&|\band\b|/|\+)\s*", text.strip())
    return [p.strip(" @*.:") for p in parts if p.strip(" @*.:")]


def find_owner(text: str, known: list[str]) -> tuple[str, str]:
    """(owner, the action without the owner's words) of one item."""
    for pattern in OWNER_PATTERNS:
        m = pattern.search(text)
        if m:
            names = split_names(m.group(1))
            extra = m.group(2) if m.lastindex and m.lastindex >= 2 and m.group(2) else ""
            rest = (text[: m.start()] + (f" ({extra})" if extra else "") + text[m.end() :]).strip(" ,;-\u2013\u2014")
            lead = re.match(rf"^({_NAME})\s+{VERB_AFTER_NAME}\s+", rest)
            if lead and lead.group(1).lstrip("@").lower() in {n.lower() for n in names}:
                rest = rest[lead.end() :]  # "Maria to write the spec (owner: Maria)"
            return ", ".join(canonical(n, known) for n in names), rest
    m = re.match(r"^(@[\w.-]+(?:\s*(?:,|and|&)\s*@[\w.-]+)*)\s*[:,\-\u2013\u2014]?\s*(.*)$", text)
    if m:
        return ", ".join(canonical(n, known) for n in re.findall(r"@([\w.-]+)", m.group(1))), m.group(2)
    m = re.match(
        rf"^((?:{_NAME})(?:\s*(?:,|and|&)\s*(?:{_NAME}))*)\s*(?::|[-\u2013\u2014]|\s{VERB_AFTER_NAME}\b)\s*(.*)$", text
    )
    if m:
        names = split_names(m.group(1))
        if names and all(is_name(n.split()[0], known) for n in names):
            rest = m.group(2)
            verb = re.match(rf"\s*{VERB_AFTER_NAME}\s+", text[len(m.group(1)) :])
            if verb and verb.group(0).strip().lower() in ("owns", "takes", "is taking"):
                rest = verb.group(0).strip() + " " + rest
            return ", ".join(canonical(n, known) for n in names), rest
    m = re.search(r"(?:^|\s)@([\w.-]+)", text)
    if m:
        return canonical(m.group(1), known), text
    m = re.match(r"^(I|We)\s*(?:will|'ll|need to|should|must|are going to|am going to|have to)\s+(.*)$", text, re.I)
    if m:
        return ("(note taker)" if m.group(1).upper() == "I" else "(team)"), m.group(2)
    return "", text


# ------------------------------------------------------------------------------------------------ parsing


def strip_md(text: str) -> str:
    text = re.sub(r"\[([^\]]+)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"(\*\*|__)(.+?)\1", r"\2", text)
    return re.sub(r"\s+", " ", text).strip()


def heading_text(line: str) -> str | None:
    s = line.strip()
    m = re.match(r"^#{1,6}\s+(.*?)\s*#*$", s)
    if m:
        return strip_md(m.group(1)).rstrip(":")
    m = re.match(r"^(?:\*\*|__)(.+?)(?:\*\*|__)\s*:?\s*$", s)
    if m:
        return m.group(1).rstrip(":")
    m = re.match(r"^([A-Z][\w '&/-]{1,40}):\s*$", s)
    if m:
        return m.group(1)
    return None


def parse(name: str, text: str) -> tuple[list[Item], list[tuple[int, str]], dt.date | None, list[str]]:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    ref = meeting_date(name, lines)
    known = attendees(lines)
    items: list[Item] = []
    decisions: list[tuple[int, str]] = []
    section = ""  # action | decision | other | ""
    in_code = False
    for number, raw in enumerate(lines, start=1):
        s = raw.strip()
        if s.startswith(("```", "~~~")):
            in_code = not in_code
            continue
        if in_code or not s:
            continue
        head = heading_text(raw)
        if head is not None:
            if SECTION.match(head):
                section = "action"
            elif DECISION_SECTION.match(head):
                section = "decision"
            else:
                section = "other"
            continue
        inline = re.match(r"^(?:\*\*|__)?([A-Z][\w '&/-]{1,30}?)(?:\*\*|__)?\s*:\s*(?:\*\*|__)?\s*(.+)$", s)
        bullet = BULLET.match(raw)
        body = strip_md(raw[bullet.end() :] if bullet else s)
        done = False
        box = CHECKBOX.match(body)
        if box:
            done = box.group(1).lower() == "x"
            body = body[box.end() :]
        if re.search(r"(?i)\(done\)|\bdone\b\s*$|✅|✔|~~.+~~", body):
            done = True
            body = re.sub(r"(?i)\s*\(done\)|\s*\bdone\b\s*$|\s*[✅✔]\s*", "", body).strip("~ ")
        marker = MARKER.match(body)
        decision = DECISION.match(body)
        if decision and not marker:
            said = body[decision.end() :].strip() if ":" in decision.group(0) else body
            decisions.append((number, said[:1].upper() + said[1:]))
            continue
        if section == "decision" and bullet and not marker and not box:
            decisions.append((number, body))
            continue
        if inline and not bullet and not marker and SECTION.match(inline.group(1)):
            body = inline.group(2)  # "Next steps: Bob to send the deck"
            is_item = True
        elif marker:
            body = body[marker.end() :]
            is_item = True
        elif box or (section == "action" and (bullet or (len(body.split()) >= 3 and not inline))):
            is_item = True
        else:
            owner, _ = find_owner(body, known)
            colon = re.match(r"^@?([\w'-]+)\s*:\s*(\w+)", body)
            is_item = bool(owner) and bool(
                re.match(rf"^\s*(?:@?[\w' -]+?)\s*(?:,|and|&|\s)*{VERB_AFTER_NAME}\b|^@\w", body)
                or re.search(r"(?i)\bassigned to\b|\bowner\s*:", body)
                or re.match(r"^(?:I|We)\b", body)
                or (
                    colon
                    and (
                        canonical(colon.group(1), known) in [k.split()[0] for k in known]
                        or colon.group(2).lower() in IMPERATIVES
                    )
                )
            )
        if not is_item or len(body.split()) < 2:
            continue
        owner, action = find_owner(body, known)
        due, resolved = "", ""
        m = DUE.search(action)
        if m:
            due = m.group(0).strip(" ,;()[]\u2013\u2014-")
            when = resolve(m.group(1), ref)
            resolved = when.isoformat() if when else ""
            action = (action[: m.start()] + " " + action[m.end() :]).strip()
        else:
            loose = LOOSE_DUE.search(action)
            if loose:
                due = loose.group(0)
                when = resolve(loose.group(0), ref)
                resolved = when.isoformat() if when else ""
                if not action[loose.end() :].strip(" .,;)"):  # a trailing "..., next week" is the date, not the task
                    action = action[: loose.start()].rstrip(" ,;(")
        action = re.sub(r"\s+", " ", action).strip(" ,;:-\u2013\u2014.")
        action = re.sub(r"^(?:to|will|should|must|needs? to)\s+", "", action, flags=re.I)
        if not action:
            continue
        items.append(Item(action[0].upper() + action[1:], owner, due, resolved, number, done, name))
    return items, decisions, ref, known


# ------------------------------------------------------------------------------------------------ output


def wanted_owner(request: str, items: list[Item]) -> str:
    """The owner whose items the request asks for ("for Alice", "Tom's items", "what does Tom have to do")."""
    owners = sorted({o.strip() for i in items for o in i.owner.split(",") if o.strip() and not o.startswith("(")})
    words = re.sub(r"\S+\.\w{1,5}\b|`[^`]*`", " ", request)  # not the file names
    for owner in owners:
        first = owner.split()[0]
        if re.search(rf"(?<![\w@]){re.escape(first)}\b", words) or re.search(rf"@{re.escape(first)}\b", words, re.I):
            return first.lower()
    return ""


def cell(text: str) -> str:
    return text.replace("|", "\\|")


def render(
    name: str, items: list[Item], decisions: list[tuple[int, str]], ref: dt.date | None, request: str
) -> list[str]:
    who = wanted_owner(request, items)
    if who:
        items = [i for i in items if any(who == o.strip().lower().split()[0] for o in i.owner.split(",") if o.strip())]
    if re.search(r"(?i)\b(?:open|pending|outstanding|not done|remaining|undone)\b", request):
        items = [i for i in items if not i.done]
    date = f"meeting date {ref.isoformat()} ({ref.strftime('%A')})" if ref else "no meeting date found"
    out = [f"## Action items in `{name}` ({date})", ""]
    if not items:
        scope = f" for {who.title()}" if who else ""
        out.append(
            f"No action items{scope} were found: no 'Action items' / 'Next steps' section, checkboxes, "
            "'Action:' / 'TODO:' lines or 'Name will/to …' sentences."
        )
    else:
        open_ = sum(1 for i in items if not i.done)
        no_owner = sum(1 for i in items if not i.owner)
        no_date = sum(1 for i in items if not i.due and not i.done)
        summary = f"{len(items)} action item(s): {open_} open, {len(items) - open_} done"
        extras = []
        if no_owner:
            extras.append(f"{no_owner} without an owner")
        if no_date:
            extras.append(f"{no_date} open without a due date")
        out.append(summary + (f"; {', '.join(extras)}." if extras else "."))
        if who:
            out.append(f"(only the items of {who.title()})")
        out += ["", "| # | action | owner | due | status | line |", "|---|---|---|---|---|---|"]
        for k, i in enumerate(items, start=1):
            due = ""
            if i.resolved:
                day = dt.date.fromisoformat(i.resolved)
                due = f"{day.strftime('%a')} {i.resolved} (“{i.due}”)"
            elif i.due:
                due = f"“{i.due}”"
            status = "done" if i.done else "open"
            out.append(
                f"| {k} | {cell(i.action)} | {cell(i.owner) or '**unassigned**'} | {cell(due) or NO_DATE} | {status} "
                f"| L{i.line} |"
            )
        owners: dict[str, int] = {}
        for i in items:
            for o in i.owner.split(", ") if i.owner else ["unassigned"]:
                owners[o] = owners.get(o, 0) + 1
        ranked = sorted(owners.items(), key=lambda kv: (kv[0] == "unassigned", -kv[1], kv[0]))
        out += ["", "By owner: " + ", ".join(f"{o} ({n})" for o, n in ranked)]
        dated = sorted((i for i in items if i.resolved and not i.done), key=lambda i: i.resolved)
        if dated:
            first = dated[0]
            out.append(f"Next due: {first.action} ({first.owner or 'unassigned'}) on {first.resolved}.")
        if not ref and any(i.due and not i.resolved for i in items):
            out.append("Relative due dates were not resolved: the notes have no date (add 'Date: 2024-03-12').")
    if decisions and not who:
        out += ["", f"### Decisions ({len(decisions)})", *(f"- L{n}: {cell(t)}" for n, t in decisions)]
    return out


def read_text(path: str) -> str:
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise Refusal(f"{path} was not found; name the meeting notes file.") from None
    except IsADirectoryError:
        raise Refusal(f"{path} is a folder; name a notes file inside it.") from None
    except OSError as exc:
        raise Refusal(f"{path} could not be read ({exc.strerror}).") from None
    if b"\x00" in data[:4096]:
        raise Refusal(f"{path} is a binary file; give the notes as text or Markdown.")
    return data.decode("utf-8", errors="replace")


def fit(text: str, hint: str) -> str:
    """The output cut to MAX_OUT bytes at a line end, an open code fence closed, saying it was cut and why."""
    if len(text.encode("utf-8")) <= MAX_OUT:
        return text
    cut = text.encode("utf-8")[: MAX_OUT - 200].decode("utf-8", "ignore").rsplit("\n", 1)[0]
    if cut.count("```") % 2:
        cut += "\n```"
    return cut + f"\n\n(output cut at 15 KB; {hint})"


def main(argv: list[str]) -> int:
    request = sys.stdin.read() if sys.stdin and not sys.stdin.isatty() else ""
    paths = argv[1:]
    try:
        if not paths:
            raise Refusal("Name the meeting notes file, e.g. `notes/2024-03-12-sync.md`.")
        out: list[str] = []
        for path in paths:
            name = Path(path).name
            text = read_text(path)
            if not text.strip():
                raise Refusal(f"{name} is empty; there are no notes to read.")
            items, decisions, ref, _ = parse(name, text)
            if out:
                out.append("")
            out += render(name, items, decisions, ref, request)
    except Refusal as exc:
        print(exc)
        return 2
    text = "\n".join(out)
    text = fit(text, "ask for one person's items")
    print(text)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except Exception as exc:  # never a traceback: a bug is still reported in one line
        print(f"action-items failed unexpectedly: {type(exc).__name__}: {exc}", file=sys.stderr)
        sys.exit(1)
