"""Proofread English text: repeated words, spacing and punctuation, common misspellings, confused words,
a/an, capitalisation, unbalanced brackets and quotes, and inconsistent spelling within the document.

Usage:
    python3 proofread.py draft.md [more.txt ...] < request.txt

Code (fenced, indented, `inline`), URLs, email addresses, file names and HTML tags are not checked. Each finding
has its line and column, the text, a suggestion and a short context. Words in the request: "only spelling",
"grammar", "spacing" / "punctuation" pick the checks, "ignore spacing" drops one, "British" / "American" flags
words of the other spelling; "fix" / "corrected" / "diff" adds a unified diff of the safe automatic fixes.
Exit 2 when no file can be read.
"""

from __future__ import annotations

import difflib
import itertools
import re
import sys
from dataclasses import dataclass
from pathlib import Path

MAX_OUT = 15_000
MAX_FINDINGS = 150

# Common misspellings -> correction (lower case; the case of the text is kept when fixing).
_MISSPELLINGS = """
accomodate:accommodate accomodation:accommodation acheive:achieve acheived:achieved accross:across
acknowlege:acknowledge acceptible:acceptable accesible:accessible accidently:accidentally adress:address
adresses:addresses agressive:aggressive alot:a_lot amature:amateur apparant:apparent appearence:appearance
aquire:acquire arguement:argument arguements:arguments availible:available avaliable:available basicly:basically
begining:beginning beggining:beginning beleive:believe belive:believe buisness:business calender:calendar
catagory:category cemetary:cemetery changable:changeable collegue:colleague collegues:colleagues comming:coming
commited:committed comittee:committee commitee:committee compatability:compatibility compatable:compatible
completly:completely concensus:consensus concious:conscious critisism:criticism curiousity:curiosity
decieve:deceive definately:definitely definatly:definitely dependancy:dependency dependancies:dependencies
desparate:desperate develope:develop developement:development dilemna:dilemma dissapoint:disappoint
dissapear:disappear embarass:embarrass enviroment:environment enviroments:environments equiptment:equipment
excercise:exercise exeption:exception existance:existence experiance:experience explaination:explanation
familar:familiar finaly:finally foriegn:foreign forseeable:foreseeable fourty:forty freind:friend funtion:function
fucntion:function goverment:government gaurd:guard gaurantee:guarantee guage:gauge happend:happened
harrass:harass heirarchy:hierarchy hieght:height immediatly:immediately incidently:incidentally
independant:independent indispensible:indispensable intial:initial initalize:initialize intresting:interesting
inteligence:intelligence knowlege:knowledge lable:label lenght:length liason:liaison libary:library
maintainance:maintenance maintenence:maintenance managment:management mantain:maintain millenium:millennium
minature:miniature mispell:misspell neccessary:necessary necesary:necessary neice:niece noticable:noticeable
occassion:occasion occured:occurred occurence:occurrence occurrance:occurrence occuring:occurring
ocurred:occurred oppurtunity:opportunity paralell:parallel parliment:parliament paramter:parameter
paramters:parameters perminent:permanent persistant:persistent peice:piece posession:possession posible:possible
prefered:preferred preperation:preparation presense:presence priviledge:privilege privelege:privilege
probaly:probably proffesional:professional publically:publicly questionaire:questionnaire realy:really
reciept:receipt recieve:receive recieved:received recieving:receiving reccomend:recommend recomend:recommend
reccommend:recommend refered:referred refrence:reference relevent:relevant remeber:remember reponse:response
repitition:repetition respository:repository resistence:resistance responsability:responsibility
retreive:retrieve rediculous:ridiculous rythm:rhythm satelite:satellite secratary:secretary sentance:sentence
seperate:separate seperately:separately seperator:separator shedule:schedule sieze:seize similiar:similar
sincerly:sincerely speach:speech succeded:succeeded succesful:successful successfull:successful
succesfully:successfully sucess:success sucessful:successful sufficent:sufficient supercede:supersede
supress:suppress suprise:surprise temperture:temperature tendancy:tendency thier:their threshhold:threshold
tommorow:tomorrow tomorow:tomorrow tounge:tongue transfered:transferred truely:truly twelth:twelfth
unfortunatly:unfortunately untill:until usefull:useful usally:usually vaccum:vacuum visable:visible wierd:weird
wich:which whereever:wherever withold:withhold writting:writing writen:written yeild:yield teh:the adn:and
taht:that hte:the recipt:receipt beacuse:because becuase:because wiht:with
"""
MISSPELLINGS = {wrong: right.replace("_", " ") for wrong, right in (p.split(":") for p in _MISSPELLINGS.split())}

CONFUSED = [
    (re.compile(r"\b(could|should|would|must|might)\s+of\b", re.I), r"\1 have", "“of” after a modal verb is “have”"),
    (
        re.compile(
            r"\b(more|less|better|worse|rather|other|greater|fewer|larger|smaller|higher|lower|faster|slower|"
            r"longer|shorter|bigger|easier|harder)\s+then\b",
            re.I,
        ),
        r"\1 than",
        "comparisons take “than”",
    ),
    (re.compile(r"\birregardless\b", re.I), "regardless", "“irregardless” is nonstandard"),
    (re.compile(r"\bper say\b", re.I), "per se", "the Latin phrase is “per se”"),
    (re.compile(r"\bfor all intensive purposes\b", re.I), "for all intents and purposes", "set phrase"),
    (re.compile(r"\bcase and point\b", re.I), "case in point", "set phrase"),
    (re.compile(r"\bone in the same\b", re.I), "one and the same", "set phrase"),
    (re.compile(r"\bsupposably\b", re.I), "supposedly", "“supposably” means “conceivably”"),
    (re.compile(r"\byour welcome\b", re.I), "you're welcome", "“you're” = “you are”"),
    (re.compile(r"\bit's own\b", re.I), "its own", "possessive “its” has no apostrophe"),
    (re.compile(r"\bthere own\b", re.I), "their own", "possessive “their”"),
    (re.compile(r"\bin regards to\b", re.I), "regarding", "“in regard to” or “regarding”"),
    (re.compile(r"\bto loose\b", re.I), "to lose", "“loose” is not tight; “lose” is to misplace"),
    (re.compile(r"\bwho's (?=car|house|job|turn|idea|book|phone|team)", re.I), "whose ", "possessive “whose”"),
]
LEGIT_DOUBLES = {"had", "that", "bye", "ha", "knock", "tut", "chop", "din", "hush", "boo", "no", "yeah", "so", "very"}
SILENT_H = ("hour", "honest", "honor", "honour", "heir", "herb")
AN_CONSONANT_SOUND = re.compile(
    r"^(?:uni|use|usa|usu|uti|ura|ure|uri|uro|ufo|eu|ewe|one(?![a-z]*r)|once|ubiq|uk)", re.I
)
_FUNCTION_WORDS = """
    a an the and or but nor of to in on at by for with from as is are was were be been it its this that these those
    not no so if then than there here any every some all each one day way time times up out off over under down
    into onto upon may can will would should could must might do did does done have has had get got we you they he
    she i me my our your their his her them us who what which when where why how more most less very too also
"""
FUNCTION_WORDS = set(_FUNCTION_WORDS.split())
TECH_CASE = {
    "github": "GitHub",
    "gitlab": "GitLab",
    "javascript": "JavaScript",
    "typescript": "TypeScript",
    "postgresql": "PostgreSQL",
    "mysql": "MySQL",
    "macos": "macOS",
    "ios": "iOS",
    "youtube": "YouTube",
    "linkedin": "LinkedIn",
    "wifi": "Wi-Fi",
}
# British / American pairs (the generic -ise/-ize and -yse/-yze checks need no list)
_PAIRS = """
colour:color behaviour:behavior favour:favor favourite:favorite honour:honor labour:labor neighbour:neighbor
humour:humor flavour:flavor rumour:rumor harbour:harbor vapour:vapor centre:center theatre:theater fibre:fiber
litre:liter metre:meter calibre:caliber sombre:somber grey:gray catalogue:catalog analogue:analog defence:defense
offence:offense pretence:pretense travelled:traveled travelling:traveling traveller:traveler cancelled:canceled
cancelling:canceling modelling:modeling modelled:modeled labelled:labeled labelling:labeling signalling:signaling
fuelled:fueled levelled:leveled totalled:totaled channelled:channeled counsellor:counselor jewellery:jewelry
fulfil:fulfill enrol:enroll judgement:judgment ageing:aging plough:plow tyre:tire aluminium:aluminum
programme:program mum:mom cheque:check
"""
BRITISH_AMERICAN = [tuple(p.split(":")) for p in _PAIRS.split()]
_ISE_WORDS = """
    advise advertise apprise arise chastise circumcise comprise compromise concise demise despise devise disguise
    enterprise excise exercise expertise franchise improvise incise merchandise otherwise paradise precise premise
    promise raise revise rise supervise surmise surprise televise treatise wise noise poise praise cruise bruise
    anise expertise reprise
"""
_ISE_ONLY = set(_ISE_WORDS.split())

FIX_KINDS = {"repeated word", "misspelling", "spacing", "confused words", "capitalisation of “I”", "a/an"}
KINDS = (
    "repeated word",
    "misspelling",
    "confused words",
    "a/an",
    "capitalisation of “I”",
    "capitalisation",
    "spacing",
    "punctuation",
    "unbalanced",
    "inconsistent spelling",
    "dialect",
)
GROUPS = {
    "spelling": {"misspelling", "inconsistent spelling", "dialect"},
    "grammar": {"repeated word", "confused words", "a/an", "capitalisation of “I”", "capitalisation"},
    "spacing": {"spacing"},
    "punctuation": {"punctuation", "unbalanced", "spacing"},
    "consistency": {"inconsistent spelling", "dialect"},
    "repeats": {"repeated word"},
}


class Refusal(Exception):
    """The request or input cannot be handled; the message is one sentence for the user."""


@dataclass
class Finding:
    line: int
    col: int
    kind: str
    text: str
    suggestion: str
    note: str = ""
    context: str = ""
    fix: tuple[int, int, str] | None = None  # (start, end, replacement) on the line, for safe fixes


# ------------------------------------------------------------------------------------------------ masking


_MASKS = [
    re.compile(r"`[^`\n]*`"),
    re.compile(r"<!--.*?-->"),
    re.compile(r"</?[A-Za-z][^>\n]*>"),
    re.compile(r"\]\([^)\s]*\)"),
    re.compile(r"\b(?:https?|ftp)://\S+|\bwww\.\S+"),
    re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),
    re.compile(r"(?:\.{0,2}/)?(?:[\w.-]+/)+[\w.-]*|\b[\w-]+\.(?:[a-z][a-z0-9]{0,4})\b(?!\.\w)"),
    re.compile(r"\{\{.*?\}\}|\$\{[^}]*\}"),
]


FILL = "\x00"  # masked text: not a word, not a space


def mask(line: str) -> str:
    """The line with code, URLs, addresses, paths and tags blanked out (same length, so columns stay right)."""
    for pattern in _MASKS:
        line = pattern.sub(lambda m: FILL * len(m.group(0)), line)
    return line


def prose_lines(text: str) -> list[tuple[int, str, str, bool]]:
    """(line number, original, masked, is a table or heading line) for the lines to check."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    out: list[tuple[int, str, str, bool]] = []
    i = 0
    if lines and lines[0].strip() == "---":
        for j in range(1, min(len(lines), 200)):
            if lines[j].strip() in ("---", "..."):
                i = j + 1
                break
    fence = ""
    prev_blank = True
    in_list = False
    while i < len(lines):
        raw = lines[i]
        s = raw.strip()
        number = i + 1
        i += 1
        if fence:
            if s.startswith(fence):
                fence = ""
            continue
        m = re.match(r"^\s*(```+|~~~+)", raw)
        if m:
            fence = m.group(1)[:3]
            prev_blank = False
            continue
        if not s:
            prev_blank = True
            out.append((number, "", "", False))
            continue
        if re.match(r"^\s*(?:[-*+]|\d+[.)])\s", raw):
            in_list = True
        elif prev_blank:
            in_list = False
        if prev_blank and re.match(r"^(?: {4}|\t)", raw) and not in_list:
            continue  # an indented code block
        prev_blank = False
        special = s.startswith(("|", "#")) or bool(re.fullmatch(r"[-=~^*_:| ]{3,}", s))
        out.append((number, raw, mask(raw), special))
    return out


# ------------------------------------------------------------------------------------------------ checks


def keep_case(source: str, word: str) -> str:
    if source.isupper() and len(source) > 1:
        return word.upper()
    if source[:1].isupper():
        return word[:1].upper() + word[1:]
    return word


def context(line: str, start: int, end: int) -> str:
    a, b = max(0, start - 30), min(len(line), end + 30)
    text = ("…" if a else "") + line[a:b].strip() + ("…" if b < len(line) else "")
    return re.sub(r"\s+", " ", text)


def a_or_an(word: str) -> str | None:
    """The article the word takes, or None when it cannot be told (numbers, symbols)."""
    if re.fullmatch(r"[A-Z]{2,6}s?", word) or re.fullmatch(r"[A-Z]", word):  # an acronym read letter by letter
        if word in ("NATO", "NASA", "UNESCO", "UNICEF", "OPEC", "SQL"):
            return None  # said as a word by some, letters by others
        return "an" if word[0] in "AEFHILMNORSX" else "a"
    low = word.lower()
    if not low[0].isalpha():
        if re.match(r"(?:8|11|18)(?:\d{2})*(?:\D|$)", low) or re.fullmatch(r"8\d?", low):
            return "an"
        return "a" if low[0].isdigit() else None
    if low.startswith(SILENT_H):
        return "an"
    if AN_CONSONANT_SOUND.match(low):
        return "a"
    return "an" if low[0] in "aeiou" else "a"


def check_line(number: int, raw: str, masked: str, special: bool, prev_last: str) -> list[Finding]:
    out: list[Finding] = []

    def add(kind: str, start: int, end: int, suggestion: str, note: str = "", fix: str | None = None) -> None:
        out.append(
            Finding(
                number,
                start + 1,
                kind,
                raw[start:end],
                suggestion,
                note,
                context(raw, start, end),
                (start, end, fix) if fix is not None else None,
            )
        )

    # repeated words (within the line, and across from the line before)
    for m in re.finditer(r"\b([A-Za-z]+)(\s+)(\1)\b", masked, re.I):
        word = m.group(1).lower()
        if word in LEGIT_DOUBLES:
            if word in ("had", "that"):
                add("repeated word", m.start(), m.end(), m.group(1), "often intended; check")
            continue
        add("repeated word", m.start(), m.end(), m.group(1), fix=m.group(1))
    first = re.match(r"\s*(?:[-*+>]\s+)?([A-Za-z]+)\b", masked)
    if first and prev_last and first.group(1).lower() == prev_last.lower() and prev_last.lower() not in LEGIT_DOUBLES:
        add("repeated word", first.start(1), first.end(1), "(delete it)", "the line before ends with the same word")
    # misspellings
    for m in re.finditer(r"\b[A-Za-z]+\b", masked):
        word = m.group(0)
        right = MISSPELLINGS.get(word.lower())
        if right and not (word.isupper() and len(word) <= 4):
            add("misspelling", m.start(), m.end(), keep_case(word, right), fix=keep_case(word, right))
        elif word.lower() in TECH_CASE and word != TECH_CASE[word.lower()] and not word.islower():
            add("capitalisation", m.start(), m.end(), TECH_CASE[word.lower()], "the product's own spelling")
    # confused words
    for pattern, repl, why in CONFUSED:
        for m in pattern.finditer(masked):
            fixed = m.expand(repl) if "\\" in repl else keep_case(m.group(0), repl)
            add("confused words", m.start(), m.end(), fixed, why, fix=fixed)
    # a / an
    for m in re.finditer(r"(?<![\w'-])(a|an|A|An)\s+([A-Za-z0-9][\w'-]*)", masked):
        article, word = m.group(1), m.group(2)
        if word.lower() in FUNCTION_WORDS or (
            article in ("A", "An") and m.start() > 0 and masked[m.start() - 1] == "."
        ):
            continue
        want = a_or_an(word)
        if want and want != article.lower():
            fixed = keep_case(article, want)
            safe = word.islower()
            add("a/an", m.start(1), m.end(1), fixed, f"before “{word}”", fix=fixed if safe else None)
    # lower-case "i" as a pronoun
    for m in re.finditer(r"(?<![\w'.-])i(?=\s+[a-z]|'(?:m|ve|ll|d)\b)", masked):
        add("capitalisation of “I”", m.start(), m.end(), "I", fix="I")
    # a sentence starting in lower case
    for m in re.finditer(r"(?<![.\w])([A-Za-z]{2,})([.!?])\s+([a-z]{2,})\b", masked):
        before = m.group(1).lower()
        if before in (
            "e",
            "g",
            "i",
            "etc",
            "vs",
            "approx",
            "cf",
            "al",
            "eg",
            "ie",
            "no",
            "fig",
            "p",
            "pp",
            "inc",
            "ltd",
        ):
            continue
        if m.group(2) == "." and re.search(r"\b(?:e\.g|i\.e|a\.m|p\.m)$", masked[: m.end(1)], re.I):
            continue
        add(
            "capitalisation", m.start(3), m.end(3), m.group(3)[0].upper() + m.group(3)[1:], "a new sentence starts here"
        )
    if not special:
        # spacing
        for m in re.finditer(r"(?<=\S)( {2,})(?=\S)", masked):
            add("spacing", m.start(), m.end(), "one space", "several spaces between words", fix=" ")
        for m in re.finditer(r"(?<=\w)(\s+)([,;:!?]|\.(?!\.))(?=\s|$)", masked):
            add("spacing", m.start(), m.end(), m.group(2), f"space before “{m.group(2)}”", fix=m.group(2))
        for m in re.finditer(r"(?<=[A-Za-z])([,;])(?=[A-Za-z])", masked):
            add("spacing", m.start(), m.end(), m.group(1) + " ", f"no space after “{m.group(1)}”", fix=m.group(1) + " ")
        for m in re.finditer(r"(?<=[a-z]{2})([.!?])(?=[A-Z][a-z])", masked):
            add("spacing", m.start(), m.end(), m.group(1) + " ", "no space after the end of a sentence")
        for m in re.finditer(r"([(\[])( +)(?=\S)|(?<=\S)( +)([)\]])", masked):
            add("spacing", m.start(), m.end(), (m.group(1) or m.group(4)), "space inside brackets")
        # punctuation
        for m in re.finditer(r",,|;;|(?<![.])\.\.(?!\.)|\?\?+|!!+|\s[,.]\s*[,.](?!\.)", masked):
            text = m.group(0).strip()
            if text in ("??", "!!") or len(text) > 2:
                add("punctuation", m.start(), m.end(), text[0], "repeated punctuation (fine in casual writing)")
            else:
                add("punctuation", m.start(), m.end(), text[0], "doubled punctuation")
        if raw.rstrip("\n") != raw.rstrip() and not re.fullmatch(r".*\S {2}", raw):
            out.append(Finding(number, len(raw.rstrip()) + 1, "spacing", "", "", "trailing whitespace"))
    return out


def check_balance(paragraph: list[tuple[int, str]]) -> list[Finding]:
    out: list[Finding] = []
    if not paragraph:
        return out
    text = " ".join(m for _, m in paragraph)
    text = re.sub(r"(?m)(?:^|\s)(?:\d{1,2}|[a-zA-Z])\)", " ", text)  # list markers: 1) a)
    text = re.sub(r"[:;]-?[()]", " ", text)  # smileys
    start = paragraph[0][0]
    for left, right in (("(", ")"), ("[", "]"), ("“", "”")):
        a, b = text.count(left), text.count(right)
        if a != b:
            out.append(
                Finding(
                    start,
                    1,
                    "unbalanced",
                    f"{a} \u00d7 {left} / {b} \u00d7 {right}",
                    f"match each {left} with a {right}",
                    "in the paragraph starting here",
                )
            )
    straight = len(re.findall(r'"', text))
    if straight % 2:
        out.append(
            Finding(
                start, 1, "unbalanced", f'{straight} \u00d7 "', "close the quotation", "in the paragraph starting here"
            )
        )
    return out


def ise_key(word: str) -> tuple[str, str] | None:
    """(stem, "s" or "z") of an -ise/-ize or -yse/-yze word (organised -> ("organi", "s")), or None."""
    m = re.fullmatch(r"([a-z]{3,}i)([sz])(e|es|ed|ing|ation|ations|er|ers|able)", word)
    if m and (m.group(1) + "se") not in _ISE_ONLY and (m.group(1) + "ze") not in ("size", "prize", "seize"):
        return m.group(1), m.group(2)
    m = re.fullmatch(r"([a-z]{2,}y)([sz])(e|es|ed|ing|er|ers)", word)
    if m and m.group(1) + "se" in ("analyse", "paralyse", "catalyse", "dialyse", "hydrolyse"):
        return m.group(1), m.group(2)
    return None


def ise_variants(word: str) -> str | None:
    """The -ize form of an -ise word (organise -> organize), or None."""
    key = ise_key(word)
    if key and key[1] == "s":
        return word[: len(key[0])] + "z" + word[len(key[0]) + 1 :]
    return None


def consistency(lines: list[tuple[int, str, str, bool]], dialect: str) -> list[Finding]:
    """Words spelled two ways in one document (colour/color, e-mail/email, GitHub/Github), and dialect checks."""
    where: dict[str, list[tuple[int, int]]] = {}
    original: dict[str, str] = {}
    for number, _raw, masked, _special in lines:
        for m in re.finditer(r"\b[A-Za-z]+(?:-[A-Za-z]+)*\b", masked):
            word = m.group(0)
            low = word.lower()
            where.setdefault(low, []).append((number, m.start() + 1))
            original.setdefault(low, word)
        words = list(re.finditer(r"\b[A-Za-z]+\b", masked))
        for x, y in itertools.pairwise(words):
            a, b = x.group(0), y.group(0)
            if masked[x.end() : y.start()] != " " or len(a) < 3 or len(b) < 3:
                continue  # only two words side by side, one space apart ("web site", not "web, site")
            if a.lower() in FUNCTION_WORDS or b.lower() in FUNCTION_WORDS:
                continue
            key = f"{a.lower()} {b.lower()}"
            where.setdefault(key, []).append((number, x.start() + 1))
            original.setdefault(key, f"{a} {b}")
    out: list[Finding] = []

    def report(forms: list[str], note: str) -> None:
        counts = {f: len(where[f]) for f in forms}
        common = max(forms, key=lambda f: (counts[f], f))
        for f in forms:
            if f == common:
                continue
            for number, col in where[f][:5]:
                out.append(
                    Finding(
                        number,
                        col,
                        "inconsistent spelling",
                        original[f],
                        original[common],
                        f"{note}: “{original[common]}” \u00d7{counts[common]}, “{original[f]}” \u00d7{counts[f]}",
                    )
                )

    seen: set[frozenset[str]] = set()
    for word in list(where):
        forms: set[str] = set()
        if "-" in word:
            closed = word.replace("-", "")
            spaced = word.replace("-", " ")
            forms = {w for w in (word, closed, spaced) if w in where}
            note = "written with and without a hyphen"
        elif " " in word and word.replace(" ", "") in where:
            forms = {word, word.replace(" ", "")}
            note = "written as one word and as two"
        if len(forms) > 1 and frozenset(forms) not in seen:
            seen.add(frozenset(forms))
            report(sorted(forms), note)
    stems: dict[str, set[str]] = {}
    for word in where:
        key = ise_key(word)
        if key:
            stems.setdefault(key[0], set()).add(word)
    for stem, forms in stems.items():
        letters = {ise_key(f)[1] for f in forms}  # type: ignore[index]
        if len(letters) == 2:
            s_forms = sorted(f for f in forms if ise_key(f)[1] == "s")  # type: ignore[index]
            z_forms = sorted(f for f in forms if ise_key(f)[1] == "z")  # type: ignore[index]
            s_count = sum(len(where[f]) for f in s_forms)
            z_count = sum(len(where[f]) for f in z_forms)
            minority = s_forms if s_count < z_count else z_forms
            majority = z_forms if minority is s_forms else s_forms
            for f in minority:
                other = majority[0]
                for number, col in where[f][:5]:
                    out.append(
                        Finding(
                            number,
                            col,
                            "inconsistent spelling",
                            original[f],
                            other,
                            f"-ise and -ize spellings of “{stem}…” mixed: “{other}” \u00d7{len(where[other])}, "
                            f"“{original[f]}” \u00d7{len(where[f])}",
                        )
                    )
    for uk, us in BRITISH_AMERICAN:
        for suffix in ("", "s"):
            a, b = uk + suffix, us + suffix
            if a in where and b in where and frozenset((a, b)) not in seen:
                seen.add(frozenset((a, b)))
                report([a, b], "British and American spellings mixed")
    # the same word with different inner capitals: GitHub / Github
    by_letters: dict[str, dict[str, tuple[int, int]]] = {}
    for number, _raw, masked, _special in lines:
        for m in re.finditer(r"\b[A-Za-z][a-z]*[A-Z][A-Za-z]*\b|\b[A-Z][a-z]{3,}\b", masked):
            by_letters.setdefault(m.group(0).lower(), {}).setdefault(m.group(0), (number, m.start() + 1))
    for low, forms in by_letters.items():
        camel = sorted(f for f in forms if re.search(r".[A-Z]", f) and not f.isupper())
        if camel and len(forms) > 1 and low not in TECH_CASE:
            main = camel[0]
            for f in sorted(set(forms) - {main}):
                n, col = forms[f]
                out.append(Finding(n, col, "inconsistent spelling", f, main, f"“{main}” and “{f}” both appear"))
    if dialect:
        for uk, us in BRITISH_AMERICAN:
            wrong, right = (us, uk) if dialect == "British" else (uk, us)
            for suffix in ("", "s"):
                for number, col in where.get(wrong + suffix, [])[:5]:
                    out.append(Finding(number, col, "dialect", wrong + suffix, right + suffix, f"{dialect} spelling"))
        for word, places in where.items():
            key = ise_key(word)
            if key and dialect == "American" and key[1] == "s":
                for number, col in places[:5]:
                    out.append(Finding(number, col, "dialect", word, ise_variants(word) or word, "American spelling"))
            elif key and dialect == "British" and key[1] == "z":
                ise = word[: len(key[0])] + "s" + word[len(key[0]) + 1 :]
                for number, col in places[:5]:
                    note = "British spelling; Oxford style keeps -ize"
                    out.append(Finding(number, col, "dialect", word, ise, note))
    return out


# ------------------------------------------------------------------------------------------------ running


def proofread(text: str) -> tuple[list[Finding], list[tuple[int, str, str, bool]]]:
    lines = prose_lines(text)
    findings: list[Finding] = []
    paragraph: list[tuple[int, str]] = []
    prev_last = ""
    for number, raw, masked, special in lines:
        if not raw:
            findings += check_balance(paragraph)
            paragraph, prev_last = [], ""
            continue
        findings += check_line(number, raw, masked, special, prev_last)
        if not special:
            paragraph.append((number, masked))
        last = re.search(r"([A-Za-z]+)\s*$", masked)
        prev_last = last.group(1) if last and not special else ""
    findings += check_balance(paragraph)
    return findings, lines


def selected(request: str) -> tuple[set[str], str]:
    low = request.lower()
    kinds: set[str] = set()
    for word, group in GROUPS.items():
        if re.search(rf"\b(?:only|just)\s+(?:the\s+|check\s+)?{word}|\b{word}\s+only\b", low):
            kinds |= group
    if not kinds:
        for word, group in (("grammar", GROUPS["grammar"]), ("spelling", GROUPS["spelling"])):
            if re.search(rf"\b(?:check|look at|review)\s+(?:the\s+)?{word}\b", low) and "proofread" not in low:
                kinds |= group
    if not kinds:
        kinds = set(KINDS)
    for word, group in GROUPS.items():
        if re.search(rf"\b(?:ignore|skip|without|no|not)\s+(?:the\s+)?{word}\b", low):
            kinds -= group
    dialect = ""
    if re.search(r"\b(?:british|uk english|en-gb|australian)\b", low):
        dialect = "British"
    elif re.search(r"\b(?:american|us english|en-us)\b", low):
        dialect = "American"
    return kinds, dialect


def apply_fixes(text: str, findings: list[Finding]) -> str:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    by_line: dict[int, list[tuple[int, int, str]]] = {}
    for f in findings:
        if f.fix is not None and f.kind in FIX_KINDS:
            by_line.setdefault(f.line, []).append(f.fix)
    for number, fixes in by_line.items():
        line = lines[number - 1]
        last = len(line) + 1
        for start, end, repl in sorted(fixes, key=lambda x: -x[0]):
            if end > last:
                continue  # overlaps a fix already made
            line = line[:start] + repl + line[end:]
            last = start
        lines[number - 1] = line
    return "\n".join(lines)


def fit(text: str, hint: str) -> str:
    """The output cut to MAX_OUT bytes at a line end, an open code fence closed, saying it was cut and why."""
    if len(text.encode("utf-8")) <= MAX_OUT:
        return text
    cut = text.encode("utf-8")[: MAX_OUT - 200].decode("utf-8", "ignore").rsplit("\n", 1)[0]
    if cut.count("```") % 2:
        cut += "\n```"
    return cut + f"\n\n(output cut at 15 KB; {hint})"


def render(name: str, text: str, request: str) -> list[str]:
    kinds, dialect = selected(request)
    findings, lines = proofread(text)
    findings += consistency(lines, dialect)
    findings = [f for f in findings if f.kind in kinds]
    findings.sort(key=lambda f: (f.line, f.col, KINDS.index(f.kind)))
    unique: dict[tuple[int, int, str], Finding] = {}
    for f in findings:
        unique.setdefault((f.line, f.col, f.text), f)  # one finding per spot (the more specific kind first)
    findings = list(unique.values())
    total_lines = text.count("\n") + (0 if text.endswith("\n") else 1)
    out = [f"## Proofreading `{name}`: {len(findings)} finding(s) in {total_lines} lines"]
    if not findings:
        checked = "all checks" if kinds == set(KINDS) else ", ".join(k for k in KINDS if k in kinds)
        out += ["", f"No problems found ({checked}). Code, URLs and file names were not checked."]
        return out
    counts: dict[str, int] = {}
    for f in findings:
        counts[f.kind] = counts.get(f.kind, 0) + 1
    out.append("By kind: " + ", ".join(f"{k} {counts[k]}" for k in KINDS if k in counts))
    out.append("")
    raw_lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    for f in findings:
        if not f.context and f.text and 0 < f.line <= len(raw_lines):
            f.context = context(raw_lines[f.line - 1], f.col - 1, f.col - 1 + len(f.text))
    trailing = [f for f in findings if f.kind == "spacing" and f.note == "trailing whitespace"]
    shown = [f for f in findings if f not in trailing]
    for f in shown[:MAX_FINDINGS]:
        arrow = f" → “{f.suggestion}”" if f.suggestion else ""
        note = f" ({f.note})" if f.note else ""
        quoted = f"“{f.text}”" if f.text else ""
        ctx = f" — {f.context}" if f.context else ""
        out.append(f"- L{f.line}:{f.col} **{f.kind}** {quoted}{arrow}{note}{ctx}")
    if len(shown) > MAX_FINDINGS:
        out.append(f"- … and {len(shown) - MAX_FINDINGS} more (ask for one kind, e.g. 'only spelling')")
    if trailing:
        where = ", ".join(f"L{f.line}" for f in trailing[:12]) + (" …" if len(trailing) > 12 else "")
        out.append(f"- Trailing whitespace on {len(trailing)} line(s): {where}")
    if re.search(r"(?i)\b(?:fix(?:es|ed)?|correct(?:ed|ion|ions)|diff|patch|apply|clean(?:ed)? up)\b", request):
        fixed = apply_fixes(text, findings)
        diff = list(
            difflib.unified_diff(text.split("\n"), fixed.split("\n"), f"a/{name}", f"b/{name}", n=0, lineterm="")
        )
        auto = sum(1 for f in findings if f.fix is not None and f.kind in FIX_KINDS)
        if diff:
            out += ["", f"Safe automatic fixes ({auto}; the rest need a person):", "", "```diff", *diff, "```"]
    return out


def read_text(path: str) -> str:
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise Refusal(f"{path} was not found; name the text or Markdown file to proofread.") from None
    except IsADirectoryError:
        raise Refusal(f"{path} is a folder; name a file inside it.") from None
    except OSError as exc:
        raise Refusal(f"{path} could not be read ({exc.strerror}).") from None
    if b"\x00" in data[:4096]:
        raise Refusal(f"{path} is a binary file; save the document as plain text or Markdown first.")
    return data.decode("utf-8", errors="replace")


def main(argv: list[str]) -> int:
    request = sys.stdin.read() if sys.stdin and not sys.stdin.isatty() else ""
    paths = argv[1:]
    try:
        if not paths:
            raise Refusal("Name the text or Markdown file to proofread, e.g. `docs/announcement.md`.")
        out: list[str] = []
        for path in paths:
            name = Path(path).name
            text = read_text(path)
            if not text.strip():
                raise Refusal(f"{name} is empty; there is nothing to proofread.")
            if out:
                out.append("")
            out += render(name, text, request)
    except Refusal as exc:
        print(exc)
        return 2
    text = "\n".join(out)
    text = fit(text, "ask for one kind, e.g. 'only spelling'")
    print(text)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except Exception as exc:  # never a traceback: a bug is still reported in one line
        print(f"proofread failed unexpectedly: {type(exc).__name__}: {exc}", file=sys.stderr)
        sys.exit(1)
