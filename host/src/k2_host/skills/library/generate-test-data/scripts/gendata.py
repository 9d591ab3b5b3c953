"""Fake but realistic test data from a column spec, seeded so the same request gives the same rows.

Usage:
    python3 gendata.py < request.txt

The request names the columns ("10 rows with columns id, name, email, age (18-65), signup_date, status
(active|trial|churned)") - or a preset: users, customers, employees, orders, products, transactions, events.
Per column: a range "(18-65)" or "(0.0-99.9)" (decimals follow the bounds), dates "(2023-01-01..2023-12-31)",
choices "(a|b|c)" or "one of a, b, c", a type word (int, float, bool, date, datetime, uuid, email, phone, ...),
"unique", "nullable" or "20% null". Without a type the column name decides (email, phone, city, price, ...).
Format: CSV (default), JSON, JSON Lines, SQL inserts (table name from "table X"), Markdown or TSV.
"seed 7" picks the random seed (default 42). At most 1000 rows; output over 15 KB is cut and says so.
Emails use example.com/.org/.net and phones the fictional 555-01xx range. Exit 2 (one sentence) when no
columns can be read.
"""

from __future__ import annotations

import csv
import io
import json
import random
import re
import sys
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

MAX_ROWS = 1000
MAX_OUT = 15_000
DATE_LO, DATE_HI = date(2020, 1, 1), date(2024, 12, 31)


def words(text: str) -> list[str]:
    return text.split()


class Refusal(Exception):
    """The request cannot be handled; the message is one sentence for the user."""


FIRST = words(
    "Amara Ben Chloe Daniel Elena Farid Grace Hiro Isabel Jamal Kemi Liam Maya Noah Olga Priya Quentin Rosa Samir "
    "Tara Umar Valentina Wei Xavier Yara Zoe Aiko Bruno Carmen Dmitri Emeka Fatima Gabriel Hana Ivan Julia Kofi Lena "
    "Mateo Nadia Oscar Paula Rahul Sofia Tomas Uma Victor Wanjiru Yusuf Zainab"
)
LAST = words(
    "Adeyemi Andersen Bauer Chen Costa Dubois Eriksen Fernandes Garcia Haddad Ito Jansen Kim Kowalski Larsen Lopez "
    "Mbeki Meyer Nakamura Novak Okafor Olsen Patel Petrov Quinn Rossi Santos Schmidt Silva Singh Tanaka Torres Ueda "
    "Varga Wagner Walker Xu Yilmaz Young Zhang Ahmed Becker Cohen Diaz Evans Fischer Gomez Hughes Ivanova Jones"
)
_CITY_TABLE = (
    "Lisbon,Portugal,PT;Berlin,Germany,DE;Osaka,Japan,JP;Toronto,Canada,CA;Nairobi,Kenya,KE;"
    "Austin,United States,US;Lyon,France,FR;Seoul,South Korea,KR;Melbourne,Australia,AU;"
    "Bogota,Colombia,CO;Krakow,Poland,PL;Pune,India,IN;Lagos,Nigeria,NG;Oslo,Norway,NO;"
    "Porto Alegre,Brazil,BR;Denver,United States,US;Valencia,Spain,ES;Utrecht,Netherlands,NL;"
    "Cape Town,South Africa,ZA;Milan,Italy,IT;Istanbul,Turkey,TR;Dublin,Ireland,IE;"
    "Auckland,New Zealand,NZ;Monterrey,Mexico,MX;Gothenburg,Sweden,SE;Manchester,United Kingdom,GB;"
    "Hanoi,Vietnam,VN;Cairo,Egypt,EG"
)
CITIES = [tuple(x.split(",")) for x in _CITY_TABLE.split(";")]
STREETS = words("Oak Maple Cedar Elm Pine Lake Hill River Park Mill Church Station Market Bridge Garden")
STREET_KINDS = ["Street", "Avenue", "Road", "Lane", "Way", "Drive"]
COMPANY_A = words("Blue Bright North Silver Quantum Green Rapid Summit Harbor Crystal Pioneer Golden Urban Nimble")
COMPANY_B = words("Labs Systems Works Dynamics Logistics Foods Analytics Media Partners Robotics Energy Studio")
COMPANY_C = ["Inc.", "Ltd", "GmbH", "LLC", "Co.", "S.A.", ""]
JOBS = [
    "Software Engineer", "Data Analyst", "Product Manager", "UX Designer", "Accountant", "Sales Representative",
    "Nurse", "Teacher", "Marketing Specialist", "DevOps Engineer", "HR Manager", "Support Agent", "Architect",
    "Mechanical Engineer", "Chef", "Pharmacist", "Project Coordinator", "Data Scientist", "Copywriter", "Electrician",
]  # fmt: skip
DEPARTMENTS = ["Engineering", "Sales", "Marketing", "Finance", "Support", "Operations", "HR", "Legal", "Product"]
PRODUCT_A = words("Classic Ultra Compact Smart Eco Pro Mini Deluxe Wireless Organic Portable Premium")
PRODUCT_B = words("Backpack Lamp Kettle Headphones Notebook Mug Blender Chair Keyboard Jacket Bottle Speaker Tent")
CATEGORIES = ["Electronics", "Home", "Books", "Clothing", "Sports", "Toys", "Garden", "Beauty", "Grocery", "Office"]
COLORS = ["red", "blue", "green", "black", "white", "yellow", "purple", "orange", "gray", "teal"]
WORDS = words(
    "quick delivery great value works well easy setup arrived late friendly support solid build could improve "
    "excellent quality small issue battery lasts long recommended sturdy light clear instructions smooth fast"
)
CURRENCIES = ["EUR", "USD", "GBP", "JPY", "CAD", "AUD", "CHF", "INR", "BRL"]
LANGS = ["en", "de", "fr", "es", "pt", "ja", "ko", "hi", "sw", "it", "nl", "pl"]
TIMEZONES = ["Europe/Lisbon", "Europe/Berlin", "Asia/Tokyo", "America/Toronto", "Africa/Nairobi", "America/Chicago"]
US_STATES = ["CA", "TX", "NY", "FL", "WA", "IL", "CO", "MA", "GA", "OR"]
PRESETS = {
    "users": "id, first_name, last_name, email, age (18-80), city, country, signup_date, is_active",
    "customers": "customer_id, name, email, phone, city, country, created_at, lifetime_value (0.00-5000.00)",
    "employees": "employee_id, first_name, last_name, email, department, job_title, salary (35000-160000), hire_date",
    "orders": "order_id, customer_id, order_date, status (pending|paid|shipped|delivered|cancelled), "
    "items (1-8), total (5.00-900.00), currency",
    "products": "product_id, sku, product_name, category, price (2.00-499.99), stock (0-500), rating (1-5)",
    "transactions": "transaction_id (uuid), account_id, timestamp, amount (-2000.00-5000.00), currency, "
    "type (debit|credit)",
    "events": "event_id, user_id, event_type (page_view|click|signup|purchase|logout), timestamp, "
    "ip_address, user_agent",
}
AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0)",
    "Mozilla/5.0 (Macintosh)",
    "Mozilla/5.0 (X11; Linux x86_64)",
    "Mozilla/5.0 (iPhone)",
]


@dataclass
class Column:
    name: str
    kind: str = "word"
    lo: float | None = None
    hi: float | None = None
    decimals: int = 0
    choices: list[str] = field(default_factory=list)
    dlo: date | None = None
    dhi: date | None = None
    unique: bool = False
    null_share: float = 0.0
    explain: str = ""


# --------------------------------------------------------------------------- parsing the request

TYPE_WORDS = {
    "int": "int", "integer": "int", "number": "int", "float": "float", "double": "float", "decimal": "float",
    "real": "float", "bool": "bool", "boolean": "bool", "date": "date", "datetime": "datetime", "timestamp": "datetime",
    "time": "time", "uuid": "uuid", "guid": "uuid", "email": "email", "phone": "phone", "name": "name",
    "first name": "first", "firstname": "first", "last name": "last", "lastname": "last", "full name": "name",
    "city": "city", "country": "country", "url": "url", "ip": "ip", "ipv4": "ip", "ipv6": "ipv6", "color": "color",
    "colour": "color", "hex": "hexcolor", "word": "word", "sentence": "sentence", "text": "sentence",
    "paragraph": "paragraph", "string": "word", "str": "word", "zip": "zip", "address": "address", "company": "company",
    "currency": "currency", "sequence": "seq", "serial": "seq", "autoincrement": "seq", "username": "username",
    "price": "money", "money": "money",
}  # fmt: skip
NAME_RULES: list[tuple[str, str]] = [
    (r"uuid|guid", "uuid"),
    (r"^(?:id|row_?id|pk)$", "seq"),
    (r"_id$|^id_", "fk"),
    (r"e_?mail", "email"),
    (r"^(?:first|given)_?name$|^fname$|^first$", "first"),
    (r"^(?:last|family|sur)_?name$|^lname$|^surname$|^last$", "last"),
    (r"user_?name|login|handle|nick", "username"),
    (r"^(?:name|full_?name|customer_?name|contact(?:_name)?|author|person|employee_?name|owner|customer)$", "name"),
    (r"phone|mobile|tel(?:ephone)?$|cell", "phone"),
    (r"^age$|_age$", "age"),
    (r"birth|dob", "dob"),
    (r"(?:_at|_on|timestamp|datetime|_time)$|^(?:timestamp|time|datetime)$", "datetime"),
    (r"date|day$|^created|^updated|^modified|^joined|^signup|^hired|^since", "date"),
    (r"salary|income|wage", "salary"),
    (r"price|amount|cost|total|balance|revenue|fee|spend|value|payment", "money"),
    (r"qty|quantity|count|stock|units|items|inventory|visits|clicks", "count"),
    (r"rating|stars", "rating"),
    (r"score|points|grade", "score"),
    (r"percent|pct|ratio|rate|share", "percent"),
    (r"^(?:is|has|can|should)_|active|enabled|verified|deleted|flag|subscribed|paid$|opt_?in", "bool"),
    (r"^status$|_status$", "status"),
    (r"country_?code|iso_?code|^cc$", "country_code"),
    (r"country|nation", "country"),
    (r"city|town", "city"),
    (r"^state$|province|region", "state"),
    (r"zip|postal|post_?code", "zip"),
    (r"address|street", "address"),
    (r"^lat|latitude", "lat"),
    (r"^lon|^lng|longitude", "lon"),
    (r"company|employer|organi[sz]ation|^org$|vendor|supplier|brand", "company"),
    (r"job|title|position|role|occupation", "job"),
    (r"department|dept|team", "department"),
    (r"category|genre|segment|^type$|_type$|kind|tier|plan", "category"),
    (r"product|item_?name|^item$", "product"),
    (r"sku|code", "sku"),
    (r"colou?r", "color"),
    (r"url|website|link|homepage", "url"),
    (r"domain|host", "domain"),
    (r"ipv6", "ipv6"),
    (r"^ip|ip_?addr", "ip"),
    (r"currency", "currency"),
    (r"lang|locale", "lang"),
    (r"timezone|^tz$", "tz"),
    (r"user_?agent|browser", "agent"),
    (r"version", "version"),
    (r"password|hash|token|secret|key$", "hash"),
    (r"description|notes?|comment|bio|message|review|feedback|body|text|summary", "sentence"),
    (r"gender|sex", "gender"),
    (r"^(?:weight|height|size|length|width|distance|temperature|temp)", "measure"),
]
EXPLAIN = {
    "seq": "sequence 1, 2, 3 ...", "fk": "integer id 1-1000", "uuid": "UUID v4 (from the seed)",
    "email": "email on example.com/.org/.net", "first": "first name", "last": "last name", "name": "full name",
    "username": "username", "phone": "phone, fictional +1 555-01xx", "age": "integer 18-80", "dob": "date 1950-2006",
    "datetime": "date-time 2020-2024 (UTC, ISO 8601)", "date": "date 2020-01-01..2024-12-31",
    "salary": "integer 30000-150000", "money": "amount 1.00-500.00", "count": "integer 0-100",
    "rating": "integer 1-5", "score": "integer 0-100", "percent": "number 0-100 (1 decimal)", "bool": "true/false",
    "status": "active / inactive / pending", "country_code": "ISO 3166 alpha-2", "country": "country",
    "city": "city", "state": "US state code", "zip": "5-digit postal code", "address": "street address",
    "lat": "latitude -90..90", "lon": "longitude -180..180", "company": "company name", "job": "job title",
    "department": "department", "category": "category", "product": "product name", "sku": "SKU like AB-12345",
    "color": "colour name", "hexcolor": "hex colour", "url": "https URL on example domains",
    "domain": "example domain", "ip": "IPv4 (documentation ranges)", "ipv6": "IPv6 (2001:db8::/32)",
    "currency": "ISO 4217 code", "lang": "language code", "tz": "IANA time zone", "agent": "browser user agent",
    "version": "semantic version", "hash": "40 hex characters", "sentence": "short sentence",
    "paragraph": "a few sentences", "word": "word", "time": "time of day", "gender": "female / male / non-binary",
    "measure": "number 1-200 (1 decimal)", "int": "integer 0-1000", "float": "number 0-1000 (2 decimals)",
}  # fmt: skip


def split_top(s: str) -> list[str]:
    parts, depth, cur = [], 0, ""
    for ch in s:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth = max(0, depth - 1)
        if ch in ",;\n" and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    out = []
    for p in parts:
        p = re.sub(r"^\s*(?:and|&)\s+", "", p.strip())
        if p:
            out.append(p)
    return out


NUM = r"-?\d+(?:\.\d+)?"


def parse_column(item: str) -> Column | None:
    raw = item.strip().strip("-*` ")
    m = re.match(r"^(?P<name>[A-Za-z_][\w .-]*?)\s*(?::\s*|\s+(?=\(|\[|\{)|\s+|$)(?P<rest>.*)$", raw)
    if not m:
        return None
    name = re.sub(r"\s+", "_", m.group("name").strip()).strip("._-")
    rest = m.group("rest").strip()
    if not name or len(name) > 60:
        return None
    words = name.split("_")
    if (
        len(words) > 1
        and words[-1].lower() in TYPE_WORDS
        and not rest
        and words[-1].lower() not in ("name", "date", "time")
    ):
        rest = words[-1]  # "score float" written with a space
        name = "_".join(words[:-1])
    col = Column(name)
    low = rest.lower()
    if re.search(r"\bunique\b", low):
        col.unique = True
    nm = re.search(r"(\d{1,2})\s*%\s*(?:null|empty|missing|blank|none)", low)
    if nm:
        col.null_share = int(nm.group(1)) / 100
    elif re.search(r"\bnullable\b|\boptional\b|\bsometimes empty\b", low):
        col.null_share = 0.1
    dates = re.findall(r"\d{4}-\d{2}-\d{2}", rest)
    choice_txt = None
    cm = re.search(r"[(\[{]([^()\[\]{}]*\|[^()\[\]{}]*)[)\]}]", rest) or re.search(
        r"\b(?:one of|in|from)\b\s*[(\[{]?\s*([^()\[\]{}]+)[)\]}]?", rest
    )
    dash = r"(?:-|to|\.\.|\u2013|\u2014)"
    if cm and not dates and not re.fullmatch(rf"\s*{NUM}\s*{dash}\s*{NUM}\s*", cm.group(1)):
        choice_txt = cm.group(1)
    rng = re.search(rf"({NUM})\s*{dash}\s*({NUM})", rest) if not dates else None
    type_word = None
    for w in sorted(TYPE_WORDS, key=len, reverse=True):
        if re.search(rf"\b{re.escape(w)}\b", low):
            type_word = TYPE_WORDS[w]
            break
    if choice_txt is not None:
        opts = [o.strip().strip("'\"") for o in re.split(r"\s*[|/,]\s*|\s+or\s+", choice_txt) if o.strip()]
        col.kind, col.choices = "choice", opts
    elif len(dates) >= 2:
        col.kind = "datetime" if type_word == "datetime" or re.search(r"_at$|time", name) else "date"
        col.dlo, col.dhi = sorted([date.fromisoformat(dates[0]), date.fromisoformat(dates[1])])
    elif rng:
        a, b = rng.group(1), rng.group(2)
        lo, hi = sorted([float(a), float(b)])
        col.lo, col.hi = lo, hi
        col.decimals = max(len(a.partition(".")[2]), len(b.partition(".")[2]))
        if type_word == "float" and col.decimals == 0:
            col.decimals = 2
        col.kind = "float" if col.decimals else "int"
        if type_word in ("money",):
            col.kind, col.decimals = "float", max(2, col.decimals)
    elif type_word:
        col.kind = type_word
        guess = infer(name)  # a generic type keeps the more specific kind the name suggests
        compatible = {
            "word": {"first", "last", "name", "username", "email", "phone", "city", "country", "country_code", "state",
                     "zip", "address", "company", "job", "department", "category", "product", "sku", "color", "url",
                     "domain", "ip", "ipv6", "currency", "lang", "tz", "agent", "version", "hash", "sentence",
                     "status", "gender"},
            "int": {"seq", "fk", "age", "count", "rating", "score", "salary"},
            "float": {"money", "percent", "lat", "lon", "measure"},
            "date": {"dob"},
            "sentence": {"sentence"},
        }  # fmt: skip
        if guess in compatible.get(type_word, set()):
            col.kind = guess
    else:
        col.kind = infer(name)
    return col


def infer(name: str) -> str:
    low = name.lower()
    for pat, kind in NAME_RULES:
        if re.search(pat, low):
            return kind
    return "word"


def parse_request(text: str) -> tuple[list[Column], int, str, int, str, list[str]]:
    notes: list[str] = []
    low = text.lower()
    sm = re.search(r"\bseed\s*[:=]?\s*(-?\d+)", low)
    seed = int(sm.group(1)) if sm else 42
    fmt = "csv"
    if re.search(r"\bjson ?lines?\b|\bjsonl\b|\bndjson\b", low):
        fmt = "jsonl"
    elif re.search(r"\bjson\b", low):
        fmt = "json"
    elif re.search(r"\bsql\b|\binsert(?: statements)?\b", low):
        fmt = "sql"
    elif re.search(r"\bmarkdown\b|\bmd table\b", low):
        fmt = "markdown"
    elif re.search(r"\btsv\b|\btab[- ]separated\b", low):
        fmt = "tsv"
    table = "test_data"
    for pat in (r"\btable\s+[`\"]?([A-Za-z_]\w*)", r"\binto\s+[`\"]?([A-Za-z_]\w*)"):
        tm = re.search(pat, text, re.I)
        if tm and tm.group(1).lower() not in ("with", "of", "the", "a", "an", "columns", "table", "rows", "sql"):
            table = tm.group(1)
            break
    cm = re.search(
        r"(\d[\d,]*)\s*(?:rows?|records?|lines?|entries|items|samples|examples|users|customers|people|employees"
        r"|orders|products|transactions|events|accounts|fake|dummy|mock|random|sample|test)",
        low,
    ) or re.search(r"\brows?\s*[:=]\s*(\d+)", low)
    rows = int(cm.group(1).replace(",", "")) if cm else 10
    if rows > MAX_ROWS:
        notes.append(f"{rows:,} rows asked; capped at {MAX_ROWS}")
        rows = MAX_ROWS
    if rows < 1:
        raise Refusal("Ask for at least one row.")
    spec = ""
    fence = re.search(r"```[\w+-]*[ \t]*\n(.*?)```", text, re.S)
    if fence:
        body = fence.group(1).strip()
        if body.startswith("{"):
            try:
                obj = json.loads(body)
                spec = ", ".join(f"{k} {v}" if isinstance(v, str) else str(k) for k, v in obj.items())
            except (ValueError, AttributeError):
                spec = body
        else:
            spec = body
    if not spec:
        m = re.search(
            r"\b(?:columns?|fields?|headers?|schema|attributes|properties|keys)\b\s*(?:like|named|called)?\s*[:=]?\s*(.+)",
            text,
            re.I | re.S,
        )
        if m:
            spec = m.group(1)
    if not spec:
        m = re.search(r"\bwith\s+(.+)", text, re.I | re.S)
        if m and "," in m.group(1):
            spec = m.group(1)
    if not spec:
        m = re.search(r":\s*([^:\n]+,[^:\n]+,[^:\n]+)$", text.strip(), re.M)  # "I need dummy CSV: a, b, c"
        if m:
            spec = m.group(1)
    if spec:
        spec = re.split(
            r"\n\s*\n|(?<=[a-z)\]])\.\s+(?=[A-Z])|\bseed\b"
            r"|\b(?:as|in)\s+(?:csv|json|jsonl|json lines|sql|markdown|tsv)\b",
            spec,
            flags=re.I,
        )[0]
    cols: list[Column] = []
    if spec:
        open_choice = False  # "one of a, b, c": the commas belong to the choices
        for item in split_top(spec):
            word = item.strip()
            if open_choice and re.fullmatch(r"[\w.-]{1,20}", word) and infer(word) == "word":
                cols[-1].choices.append(word)
                continue
            c = parse_column(item)
            open_choice = bool(c and c.kind == "choice" and re.search(r"\bone of\b(?![^(\[{]*[)\]}])", item, re.I))
            if c and c.name.lower() not in {x.name.lower() for x in cols}:
                cols.append(c)
    if not cols:
        preset = next((p for p in PRESETS if re.search(rf"\b{p[:-1]}s?\b", low)), None)
        if preset is None:
            raise Refusal(
                "Name the columns, e.g. '10 rows with columns id, name, email, age (18-65), status (active|trial)', "
                "or ask for a preset: users, customers, employees, orders, products, transactions, events."
            )
        notes.append(f"no columns given; used the '{preset}' preset - list columns to choose them")
        cols = [c for c in (parse_column(i) for i in split_top(PRESETS[preset])) if c]
    if cols and cols[0].kind == "fk" and re.search(r"id$", cols[0].name, re.I):
        cols[0].kind = "seq"
    for c in cols:
        if c.kind in ("seq", "uuid", "email", "username") or (c.kind == "fk" and c is cols[0]):
            c.unique = True
    return cols, rows, fmt, seed, table, notes


# --------------------------------------------------------------------------- generating values


class Gen:
    def __init__(self, seed: int) -> None:
        self.r = random.Random(seed)  # noqa: S311 - test data, not secrets: reproducible on purpose
        self.seen: dict[str, set[object]] = {}

    def value(self, c: Column, i: int, row: dict[str, object]) -> object:
        if c.null_share and self.r.random() < c.null_share:
            return None
        for _ in range(50):
            v = self._one(c, i, row)
            if not c.unique:
                return v
            seen = self.seen.setdefault(c.name, set())
            if v not in seen:
                seen.add(v)
                return v
        raise Refusal(f"Cannot make {c.name} unique: its range is too small for the number of rows.")

    def _person(self, row: dict[str, object]) -> tuple[str, str]:
        if "_first" not in row:
            row["_first"] = self.r.choice(FIRST)
            row["_last"] = self.r.choice(LAST)
        return str(row["_first"]), str(row["_last"])

    def _place(self, row: dict[str, object]) -> tuple[str, str, str]:
        if "_city" not in row:
            row["_city"] = self.r.choice(CITIES)
        return row["_city"]  # type: ignore[return-value]

    def _date(self, lo: date, hi: date) -> date:
        return lo + timedelta(days=self.r.randint(0, (hi - lo).days))

    def _one(self, c: Column, i: int, row: dict[str, object]) -> object:
        r = self.r
        k = c.kind
        if k == "choice":
            return r.choice(c.choices)
        if c.lo is not None and c.hi is not None:
            if k == "int":
                return r.randint(int(c.lo), int(c.hi))
            return round(r.uniform(c.lo, c.hi), c.decimals)
        if k == "seq":
            return i + 1
        if k == "fk":
            return r.randint(1, 1000)
        if k == "int":
            return r.randint(0, 1000)
        if k == "float":
            return round(r.uniform(0, 1000), 2)
        if k == "uuid":
            b = bytearray(r.getrandbits(8) for _ in range(16))
            b[6] = (b[6] & 0x0F) | 0x40
            b[8] = (b[8] & 0x3F) | 0x80
            h = b.hex()
            return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
        if k == "first":
            return self._person(row)[0]
        if k == "last":
            return self._person(row)[1]
        if k == "name":
            f, la = self._person(row)
            return f"{f} {la}"
        if k == "username":
            f, la = self._person(row)
            return f"{f.lower()}{la[:1].lower()}{r.randint(1, 99)}"
        if k == "email":
            f, la = self._person(row)
            dom = r.choice(["example.com", "example.org", "example.net"])
            return f"{f.lower()}.{la.lower()}{i + 1}@{dom}"
        if k == "phone":
            return f"+1-555-01{r.randint(0, 99):02d}"
        if k == "age":
            return r.randint(18, 80)
        if k == "dob":
            return self._date(date(1950, 1, 1), date(2006, 12, 31)).isoformat()
        if k == "date":
            return self._date(c.dlo or DATE_LO, c.dhi or DATE_HI).isoformat()
        if k == "datetime":
            d = self._date(c.dlo or DATE_LO, c.dhi or DATE_HI)
            t = datetime(d.year, d.month, d.day) + timedelta(seconds=r.randint(0, 86399))
            return t.strftime("%Y-%m-%dT%H:%M:%SZ")
        if k == "time":
            return f"{r.randint(0, 23):02d}:{r.randint(0, 59):02d}:{r.randint(0, 59):02d}"
        if k == "salary":
            return r.randint(30, 150) * 1000
        if k == "money":
            return round(r.uniform(1, 500), 2)
        if k == "count":
            return r.randint(0, 100)
        if k == "rating":
            return r.randint(1, 5)
        if k == "score":
            return r.randint(0, 100)
        if k == "percent":
            return round(r.uniform(0, 100), 1)
        if k == "measure":
            return round(r.uniform(1, 200), 1)
        if k == "bool":
            return r.random() < 0.5
        if k == "status":
            return r.choice(["active", "inactive", "pending"])
        if k == "country_code":
            return self._place(row)[2]
        if k == "country":
            return self._place(row)[1]
        if k == "city":
            return self._place(row)[0]
        if k == "state":
            return r.choice(US_STATES)
        if k == "zip":
            return f"{r.randint(10000, 99999)}"
        if k == "address":
            return f"{r.randint(1, 250)} {r.choice(STREETS)} {r.choice(STREET_KINDS)}"
        if k == "lat":
            return round(r.uniform(-90, 90), 6)
        if k == "lon":
            return round(r.uniform(-180, 180), 6)
        if k == "company":
            return f"{r.choice(COMPANY_A)} {r.choice(COMPANY_B)} {r.choice(COMPANY_C)}".strip()
        if k == "job":
            return r.choice(JOBS)
        if k == "department":
            return r.choice(DEPARTMENTS)
        if k == "category":
            return r.choice(CATEGORIES)
        if k == "product":
            return f"{r.choice(PRODUCT_A)} {r.choice(PRODUCT_B)}"
        if k == "sku":
            return f"{chr(65 + r.randint(0, 25))}{chr(65 + r.randint(0, 25))}-{r.randint(10000, 99999)}"
        if k == "color":
            return r.choice(COLORS)
        if k == "hexcolor":
            return f"#{r.getrandbits(24):06x}"
        if k == "url":
            return f"https://www.example.{r.choice(['com', 'org', 'net'])}/{r.choice(WORDS)}/{r.randint(1, 999)}"
        if k == "domain":
            return f"{r.choice(WORDS)}{r.randint(1, 99)}.example.com"
        if k == "ip":
            net = r.choice(["192.0.2", "198.51.100", "203.0.113"])
            return f"{net}.{r.randint(1, 254)}"
        if k == "ipv6":
            return "2001:db8:" + ":".join(f"{r.getrandbits(16):x}" for _ in range(6))
        if k == "currency":
            return r.choice(CURRENCIES)
        if k == "lang":
            return r.choice(LANGS)
        if k == "tz":
            return r.choice(TIMEZONES)
        if k == "agent":
            return r.choice(AGENTS)
        if k == "version":
            return f"{r.randint(0, 5)}.{r.randint(0, 20)}.{r.randint(0, 30)}"
        if k == "hash":
            return f"{r.getrandbits(160):040x}"
        if k == "gender":
            return r.choice(["female", "male", "non-binary"])
        if k in ("sentence", "paragraph"):
            n = 1 if k == "sentence" else 3
            sents = []
            for _ in range(n):
                ws = [r.choice(WORDS) for _ in range(r.randint(4, 9))]
                sents.append(" ".join(ws).capitalize() + ".")
            return " ".join(sents)
        return r.choice(WORDS)


# --------------------------------------------------------------------------- output


def describe(c: Column) -> str:
    if c.kind == "choice":
        d = "one of " + ", ".join(c.choices)
    elif c.lo is not None and c.hi is not None:
        d = f"{'integer' if c.kind == 'int' else 'number'} {c.lo:g}-{c.hi:g}" + (
            f" ({c.decimals} decimal{'s' if c.decimals > 1 else ''})" if c.decimals else ""
        )
    elif c.dlo and c.dhi:
        d = f"{c.kind} {c.dlo.isoformat()}..{c.dhi.isoformat()}"
    else:
        d = EXPLAIN.get(c.kind, c.kind)
    if c.unique:
        d += ", unique"
    if c.null_share:
        d += f", {c.null_share:.0%} empty"
    return d


SQL_TYPES = {"int": "INTEGER", "seq": "INTEGER", "fk": "INTEGER", "age": "INTEGER", "count": "INTEGER",
             "rating": "INTEGER", "score": "INTEGER", "salary": "INTEGER", "bool": "BOOLEAN", "date": "DATE",
             "dob": "DATE", "datetime": "TIMESTAMP", "money": "NUMERIC(12,2)", "float": "NUMERIC", "percent": "NUMERIC",
             "lat": "NUMERIC(9,6)", "lon": "NUMERIC(9,6)", "measure": "NUMERIC"}  # fmt: skip


def sql_literal(v: object) -> str:
    if v is None:
        return "NULL"
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, int | float):
        return repr(v)
    return "'" + str(v).replace("'", "''") + "'"


def render(cols: list[Column], rows: list[dict[str, object]], fmt: str, table: str) -> str:
    names = [c.name for c in cols]
    if fmt in ("csv", "tsv"):
        buf = io.StringIO()
        w = csv.writer(buf, delimiter="\t" if fmt == "tsv" else ",", lineterminator="\n")
        w.writerow(names)
        for r in rows:
            w.writerow(
                [
                    "" if r[n] is None else ("true" if r[n] is True else "false" if r[n] is False else r[n])
                    for n in names
                ]
            )
        return buf.getvalue().rstrip("\n")
    if fmt == "json":
        return json.dumps([{n: r[n] for n in names} for r in rows], indent=2, ensure_ascii=False)
    if fmt == "jsonl":
        return "\n".join(json.dumps({n: r[n] for n in names}, ensure_ascii=False) for r in rows)
    if fmt == "sql":
        lines = [f"CREATE TABLE {table} ("]
        defs = []
        for c in cols:
            t = SQL_TYPES.get(c.kind, "NUMERIC" if c.kind == "float" else "TEXT")
            if c.kind == "int":
                t = "INTEGER"
            elif c.kind == "float" and c.decimals:
                t = f"NUMERIC(12,{c.decimals})"
            defs.append(f"  {c.name} {t}" + (" PRIMARY KEY" if c is cols[0] and c.kind in ("seq", "uuid") else ""))
        lines.append(",\n".join(defs))
        lines.append(");")
        for r in rows:
            values = ", ".join(sql_literal(r[n]) for n in names)
            lines.append(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({values});")  # noqa: S608 - printed, not run
        return "\n".join(lines)
    out = ["| " + " | ".join(names) + " |", "|" + "---|" * len(names)]
    for r in rows:
        out.append("| " + " | ".join("" if r[n] is None else str(r[n]).replace("|", "\\|") for n in names) + " |")
    return "\n".join(out)


def main() -> int:
    try:
        text = sys.stdin.buffer.read().decode("utf-8", "replace")
    except (OSError, ValueError):
        text = ""
    if not text.strip():
        raise Refusal("Name the columns, e.g. '10 rows with columns id, name, email, age (18-65)'.")
    cols, n, fmt, seed, table, notes = parse_request(text)
    if len(cols) > 60:
        raise Refusal("At most 60 columns.")
    gen = Gen(seed)
    rows: list[dict[str, object]] = []
    for i in range(n):
        row: dict[str, object] = {}
        for c in cols:
            row[c.name] = gen.value(c, i, row)
        rows.append({c.name: row[c.name] for c in cols})
    body = render(cols, rows, fmt, table)
    lang = {"csv": "csv", "tsv": "tsv", "json": "json", "jsonl": "json", "sql": "sql", "markdown": ""}[fmt]
    shown = n
    while len(body) > MAX_OUT - 2500 and shown > 1:
        shown = max(1, int(shown * (MAX_OUT - 2500) / len(body) * 0.95))
        body = render(cols, rows[:shown], fmt, table)
    label = {"csv": "CSV", "tsv": "TSV", "json": "JSON", "jsonl": "JSON Lines", "sql": "SQL", "markdown": "Markdown"}[
        fmt
    ]
    out = [f"# {n} rows of test data · {label} · seed {seed}", ""]
    out.append("| column | generated as |")
    out.append("|---|---|")
    out += [f"| {c.name} | {describe(c)} |" for c in cols]
    out.append("")
    if fmt == "markdown":
        out.append(body)
    else:
        out += [f"```{lang}", body, "```"]
    if shown < n:
        notes.append(f"output cut to the first {shown} of {n} rows (15 KB limit); run the script locally for all rows")
    notes.append(f"same request and seed → same rows; change the seed ('seed {seed + 1}') for different ones")
    out.append("")
    out += [f"Note: {x}." for x in notes]
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    try:
        status = main()
    except Refusal as exc:
        print(exc)
        status = 2
    except Exception as exc:  # a bug: one line, never a traceback
        print(f"gendata.py failed unexpectedly: {type(exc).__name__}: {exc}")
        status = 1
    sys.exit(status)
