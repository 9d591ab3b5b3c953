"""Turn a described process into Mermaid diagram text (flowchart or sequence diagram).

Usage:
    python3 mermaid.py < request.txt

Flowcharts come from arrow chains ("Start -> Receive order -> Payment ok?", "Payment ok? -[yes]-> Ship",
"A -->|no| B", "A --no--> B"), from numbered or bulleted steps, or from sentences joined by "then".
A step ending in "?" (or "if ..., ... otherwise ...") becomes a decision with yes/no branches; "go back to
step 2" / "repeat from step 2" draws a loop; start/end/done steps are drawn as terminals, input/output and
database steps with their usual shapes. "left to right" (or LR / RL / BT) sets the direction.
Sequence diagrams come from "Client -> Server: message" lines (--> or -->> for replies) or sentences like
"the client sends a login request to the server", "the server returns a token to the client", or when the
request says "sequence diagram". Exit 2 (one sentence) when no steps or messages are found.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field


class Refusal(Exception):
    """The request cannot be handled; the message is one sentence for the user."""


# --------------------------------------------------------------------------- flowchart model


@dataclass
class Node:
    nid: str
    label: str
    shape: str = "box"  # box, decision, terminal, io, db


@dataclass
class Flow:
    nodes: list[Node] = field(default_factory=list)
    edges: list[tuple[str, str, str]] = field(default_factory=list)  # from, to, label
    by_label: dict[str, Node] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def node(self, label: str, shape: str | None = None) -> Node:
        key = norm_key(label)
        if key in self.by_label:
            return self.by_label[key]
        n = Node(f"N{len(self.nodes) + 1}", clean_label(label), shape or shape_of(label))
        self.nodes.append(n)
        self.by_label[key] = n
        return n

    def new_node(self, label: str, shape: str | None = None) -> Node:
        """A node even when the same label exists (steps repeat words like 'Retry')."""
        n = Node(f"N{len(self.nodes) + 1}", clean_label(label), shape or shape_of(label))
        self.nodes.append(n)
        self.by_label.setdefault(norm_key(label), n)
        return n

    def edge(self, a: Node, b: Node, label: str = "") -> None:
        e = (a.nid, b.nid, label.strip())
        if e not in self.edges:
            self.edges.append(e)


TERMINAL = re.compile(r"^(?:start|begin|end|stop|done|finish|finished|exit|the end|complete)\b[.!]?$", re.I)
IO_WORDS = re.compile(
    r"^(?:read|input|enter|type|receive|get input|ask (?:the )?user|prompt|upload|print|output|display|show"
    r"|send|email|notify|download|scan|export|import)\b",
    re.I,
)
DB_WORDS = re.compile(
    r"\b(?:database|db|save to|store in|stored in|persist|insert into|write to (?:the )?(?:db|table)|query the)\b", re.I
)
DECISION_START = re.compile(
    r"^(?:is|are|was|does|do|did|has|have|can|should|will|would|could|check (?:if|whether)|whether|if)\b", re.I
)


def norm_key(label: str) -> str:
    return re.sub(r"\s+", " ", clean_label(label)).lower()


def clean_label(label: str) -> str:
    t = label.strip().strip("\"'`")
    t = re.sub(r"^\s*(?:\[|\(|\{)+\s*|\s*(?:\]|\)|\})+\s*$", "", t) if re.match(r"^[\[({].*[\])}]$", t) else t
    t = re.sub(r"^(?:step\s*\d+\s*[:.)-]\s*)", "", t, flags=re.I)
    t = re.sub(r"\s+", " ", t).strip(" .;,")
    t = t[:1].upper() + t[1:]
    return t[:80] + ("…" if len(t) > 80 else "")


def shape_of(label: str) -> str:
    t = clean_label(label)
    if TERMINAL.match(t):
        return "terminal"
    if t.endswith("?"):
        return "decision"
    if DB_WORDS.search(t):
        return "db"
    if IO_WORDS.match(t):
        return "io"
    return "box"


def quote(label: str) -> str:
    return label.replace('"', "#quot;").replace("\n", " ")


def render_node(n: Node) -> str:
    q = quote(n.label)
    return {
        "decision": f'{n.nid}{{"{q}"}}',
        "terminal": f'{n.nid}(["{q}"])',
        "io": f'{n.nid}[/"{q}"/]',
        "db": f'{n.nid}[("{q}")]',
    }.get(n.shape, f'{n.nid}["{q}"]')


# --------------------------------------------------------------------------- flowchart from arrows

ARROW = re.compile(
    r"\s*(?:-\[(?P<l1>[^\]]*)\]->|-->?\s*\|(?P<l2>[^|]*)\|\s*|--\s*(?P<l3>[^-<>|\s][^-<>|]*?)\s*-->|-\((?P<l4>[^)]*)\)->"
    r"|==>|-->|->|=>|\u2192|\u27f6)\s*"
)


def flow_from_arrows(lines: list[str], flow: Flow) -> bool:
    used = False
    for line in lines:
        if not ARROW.search(line):
            continue
        parts = ARROW.split(line)
        # re.split with groups returns [text, l1, l2, l3, l4, text, ...]
        texts = parts[0::5]
        labels = [next((x for x in parts[i : i + 4] if x), "") for i in range(1, len(parts), 5)]
        texts = [t for t in texts]
        if len(texts) < 2 or any(not t.strip() for t in texts):
            continue
        used = True
        prev = flow.node(_strip_prefix(texts[0]))
        for label, txt in zip(labels, texts[1:], strict=True):
            lab = label
            m = re.match(r"^\s*(?P<t>.+?)\s*:\s*(?P<l>yes|no|true|false|ok|fail(?:ed)?|y|n)\s*$", txt, re.I)
            if m and not lab:
                txt, lab = m.group("t"), m.group("l")
            nxt = flow.node(txt)
            flow.edge(prev, nxt, lab)
            prev = nxt
    return used


def _strip_prefix(text: str) -> str:
    return re.sub(
        r"^\s*(?:(?:make|draw|create|give me)\s+(?:me\s+)?(?:a\s+)?(?:flowchart|flow chart|diagram)\s*[:,-]?\s*)",
        "",
        text,
        flags=re.I,
    )


# --------------------------------------------------------------------------- flowchart from steps

JUMP = re.compile(
    r"\b(?:go(?:es)? back to|back to|return to|repeat from|loop back to|retry from|restart from|jump to|go to"
    r"|continue (?:at|with))"
    r"\s+(?:step\s*)?(?P<target>\d+|the start|start|beginning|the beginning|[^,;.]+)",
    re.I,
)
Q_BRANCH = re.compile(
    r"^\s*(?P<cond>[^?]+\?)\s*(?P<rest>.*)$",
)
BRANCH_PART = re.compile(
    r"(?:^|[,;/]|\s)\s*(?:if\s+)?(?P<key>yes|no|true|false|y|n|pass(?:es)?|fail(?:s|ed)?|ok)\s*(?:[:,-]|->|then)?\s*(?P<act>[^,;/]+)",
    re.I,
)


ACTION_VERBS = (
    r"save|store|show|display|send|go|return|redirect|log|create|ask|retry|continue|print|notify|add|update|delete"
    r"|open|close|approve|reject|ship|charge|email|call|write|read|raise|throw|stop|end|skip|use|run|deploy|alert"
    r"|refund|cancel|block|allow|grant|deny|retry|escalate|assign|archive|mark|set|move|restart|wait"
)


def parse_if(s: str) -> tuple[str, str, str | None] | None:
    """'if X, (then) A, otherwise B' / 'if X A else B' -> (X, A, B)."""
    m = re.match(r"^\s*if\s+(?P<body>.+)$", s, re.I)
    if not m:
        return None
    body = m.group("body")
    no = None
    parts = re.split(r"\s*(?:[,;.]\s*|\s)(?:else|otherwise|if not|or else)\b\s*,?\s*", body, maxsplit=1, flags=re.I)
    if len(parts) == 2:
        body, no = parts[0], parts[1]
    sep = re.search(r",\s*then\s+|\s+then\s+|,\s*", body, re.I)
    if sep:
        cond, yes = body[: sep.start()], body[sep.end() :]
    else:
        verb = re.search(rf"\s+(?=(?:{ACTION_VERBS})\b)", body, re.I)
        if not verb:
            return None
        cond, yes = body[: verb.start()], body[verb.end() :]
    if not cond.strip() or not yes.strip():
        return None
    return cond.strip(), yes.strip(), no.strip() if no else None


def split_steps(body: str) -> list[str]:
    lines = [ln for ln in body.splitlines() if ln.strip()]
    listed = [ln for ln in lines if re.match(r"^\s*(?:\d+[.)]|[-*+\u2022]|step\s*\d+\s*[:.)-])\s+", ln, re.I)]
    if len(listed) >= 2:
        return [re.sub(r"^\s*(?:\d+[.)]|[-*+\u2022]|step\s*\d+\s*[:.)-])\s+", "", ln, flags=re.I) for ln in listed]
    text = " ".join(lines)
    inline = re.split(r"(?:^|\s)(?:\d+[.)]|step\s*\d+\s*[:.)-])\s+", text, flags=re.I)
    if len(inline) >= 3:
        return [p.strip() for p in inline[1:] if p.strip()]
    text = re.sub(r"^.*?(?:flow(?:chart)?|diagram|process|workflow|steps)\s*(?:for|of)?[^:]*:\s*", "", text, flags=re.I)
    parts = re.split(
        r"(?<=[.!])\s+(?=[A-Z])|;\s*|,?\s+\b(?:and then|then|after that|afterwards|next|finally|lastly)\b,?\s+",
        text,
        flags=re.I,
    )
    parts = [re.sub(r"^(?:first(?:ly)?|to start|start by|begin by)\s*,?\s*", "", p.strip(), flags=re.I) for p in parts]
    parts = [p for p in parts if p and p.strip(" .")]
    if len(parts) < 2:
        group = re.search(r"\(([^()]*,[^()]*,[^()]*)\)", text)  # "the pipeline (build, test, approve, deploy)"
        if group:
            return [p.strip() for p in re.split(r",\s*(?:and\s+|then\s+)?|\s+and\s+", group.group(1)) if p.strip()]
        body = text.strip().rstrip(".")
        if body.count(",") >= 2 and not re.search(r"\bif\b", body, re.I):  # "request, check receipt, approve?, refund"
            return [p.strip() for p in re.split(r",\s*(?:and\s+|then\s+)?", body) if p.strip()]
    return parts


@dataclass
class Step:
    text: str
    node: Node | None = None
    yes: str | None = None
    no: str | None = None
    branch_nodes: dict[str, tuple[Node | None, re.Match[str] | None]] = field(default_factory=dict)


def _branch(text: str) -> tuple[str, re.Match[str] | None]:
    """The action of a branch and its jump ('fix the bug and go back to step 2' -> 'fix the bug', jump 2)."""
    br = text.strip().rstrip(".")
    jump = JUMP.search(br)
    action = JUMP.sub("", br) if jump else br
    action = re.sub(r"^\s*(?:and|then)\s+|\s+(?:and|then)\s*$", "", action.strip(" ,;-"), flags=re.I).strip(" ,;-")
    if re.fullmatch(r"(?:continue|proceed|go on|carry on|next|skip)", action, re.I):
        action = ""
    return action, jump


def flow_from_steps(steps: list[str], flow: Flow) -> None:
    parsed: list[Step] = []
    for raw in steps:
        s = raw.strip().rstrip(".")
        got = parse_if(s)
        if got:
            cond, yes, no = got
            parsed.append(Step(cond[0].upper() + cond[1:].rstrip("?") + "?", yes=yes, no=no))
            continue
        q = Q_BRANCH.match(s)
        if q and q.group("rest").strip():
            rest = q.group("rest")
            st = Step(q.group("cond").strip())
            for b in BRANCH_PART.finditer(rest):
                key = b.group("key").lower()
                if key in ("yes", "true", "y", "pass", "passes", "ok"):
                    st.yes = b.group("act")
                else:
                    st.no = b.group("act")
            if st.yes is None and st.no is None:
                parsed.append(Step(q.group("cond").strip()))
                parsed.append(Step(rest))
            else:
                parsed.append(st)
            continue
        if DECISION_START.match(s) and not s.endswith("?") and len(s.split()) <= 8:
            s = s + "?"
        parsed.append(Step(s))
    merged: list[Step] = []
    for st in parsed:  # "approve?" then "refund or reject": the two branches of the question
        prev = merged[-1] if merged else None
        m = re.fullmatch(r"(?:either\s+)?(?P<a>[\w' -]{1,40}?)\s+or\s+(?P<b>[\w' -]{1,40})", st.text.strip(" ."), re.I)
        if prev and prev.text.endswith("?") and prev.yes is None and prev.no is None and m:
            prev.yes, prev.no = m.group("a"), m.group("b")
            continue
        merged.append(st)
    parsed = merged
    for st in parsed:
        st.node = flow.new_node(st.text, "decision" if st.text.endswith("?") else None)
        for label, branch in (("yes", st.yes), ("no", st.no)):
            if branch is None:
                continue
            action, jump = _branch(branch)
            if re.fullmatch(r"(?:end|stop|finish|done|exit|quit)", action, re.I):
                st.branch_nodes[label] = (flow.node("End", "terminal"), None)
            else:
                st.branch_nodes[label] = (flow.new_node(action) if action else None, jump)
    pending_jumps: list[tuple[Node, str, str]] = []
    for i, st in enumerate(parsed):
        assert st.node is not None
        nxt = parsed[i + 1].node if i + 1 < len(parsed) else None
        if st.node.shape == "terminal" and norm_key(st.text) in ("end", "stop", "done", "finish", "the end", "exit"):
            continue
        own_jump = JUMP.search(st.text) if st.node.shape != "decision" else None
        if own_jump:
            pending_jumps.append((st.node, own_jump.group("target"), ""))
            continue
        if st.node.shape != "decision":
            if nxt is not None:
                flow.edge(st.node, nxt)
            continue
        for label in ("yes", "no"):
            if label not in st.branch_nodes:
                if label == "yes" and nxt is not None:
                    flow.edge(st.node, nxt, "yes")
                elif label == "no" and nxt is not None:
                    flow.notes.append(f"the decision '{st.node.label}' has no 'no' branch; say what happens then")
                continue
            act, jump = st.branch_nodes[label]
            src_node, lab = st.node, label
            if act is not None:
                flow.edge(st.node, act, label)
                if act.shape == "terminal":
                    continue
                src_node, lab = act, ""
            if jump:
                pending_jumps.append((src_node, jump.group("target"), lab))
            elif nxt is not None:
                flow.edge(src_node, nxt, lab)
    for src, target, lab in pending_jumps:
        dest = _resolve(target, parsed, flow)
        if dest is None:
            flow.notes.append(f"could not find the step '{target.strip()}' to go back to")
            continue
        flow.edge(src, dest, lab)


def _resolve(target: str, parsed: list[Step], flow: Flow) -> Node | None:
    t = target.strip().lower()
    if t.isdigit():
        i = int(t) - 1
        return parsed[i].node if 0 <= i < len(parsed) else None
    if t in ("start", "the start", "beginning", "the beginning"):
        return parsed[0].node
    key = norm_key(target)
    for st in parsed:
        if st.node and (norm_key(st.text) == key or key in norm_key(st.text)):
            return st.node
    return flow.by_label.get(key)


def render_flow(flow: Flow, direction: str) -> list[str]:
    out = [f"flowchart {direction}"]
    out += [f"    {render_node(n)}" for n in flow.nodes]
    for a, b, lab in flow.edges:
        out.append(f"    {a} -->|{quote(lab)}| {b}" if lab else f"    {a} --> {b}")
    return out


# --------------------------------------------------------------------------- sequence diagrams

SEQ_ARROW = re.compile(
    r"^\s*(?:[-*]\s+)?(?P<a>[^:>\-]+?)\s*(?P<arrow>-->>|->>|-->|->|=>|\u2192|--x|-x|-\))\s*(?P<b>[^:]+?)\s*:\s*(?P<msg>.+?)\s*$"
)
REPLY_VERBS = r"returns?|repl(?:y|ies)|responds?|answers?|acknowledges?|confirms?|sends? back|hands? back|redirects?"
ASK_VERBS = (
    r"sends?|asks?|requests?|calls?|quer(?:y|ies)|posts?|gets?|fetch(?:es)?|submits?|forwards?|notif(?:y|ies)"
    r"|publish(?:es)?|writes?|reads?|passes?|pushes?|invokes?|emits?|uploads?|downloads?|checks?|validates?"
    r"|loads?|subscribes?|triggers?|logs?|saves?|stores?"
)
SEQ_PROSE = re.compile(
    rf"^\s*(?:then\s+|next\s+|finally\s+|and\s+)?(?:the\s+)?(?P<a>[A-Za-z][\w .'-]{{0,30}}?)\s+"
    rf"(?P<verb>{REPLY_VERBS}|{ASK_VERBS})\s+"
    rf"(?:(?P<msg>.+?)\s+)?(?P<prep>back to|to|from|with|on|in)\s+(?:the\s+)?(?P<b>[A-Za-z][\w .'-]{{0,30}}?)"
    rf"(?:\s+(?:with|containing|carrying|for)\s+(?P<msg2>.+?))?\s*[.;]?\s*$",
    re.I,
)


SEQ_DIRECT = re.compile(
    r"^\s*(?:then\s+|next\s+|finally\s+|and\s+)?(?:the\s+)?(?P<a>[A-Za-z][\w .'-]{0,30}?)\s+"
    r"(?P<verb>quer(?:y|ies)|calls?|pings?|notif(?:y|ies)|contacts?|invokes?|polls?|asks?)\s+(?:the\s+)?"
    r"(?P<b>[A-Za-z][\w'-]{0,30})\s*[.;]?\s*$",
    re.I,
)


def seq_from_text(lines: list[str]) -> tuple[list[str], list[tuple[str, str, str, bool]]]:
    participants: list[str] = []
    msgs: list[tuple[str, str, str, bool]] = []

    def who(name: str) -> str:
        n = re.sub(r"\s+", " ", name.strip(" .'\"`")).strip()
        n = re.sub(r"^(?:the|a|an)\s+", "", n, flags=re.I)
        n = n[:1].upper() + n[1:]
        for p in participants:
            if p.lower() == n.lower():
                return p
        participants.append(n)
        return n

    sentences: list[str] = []
    for ln in lines:
        parts = re.split(
            r"(?<=[.!?])\s+|;\s+|,\s*(?:then|and then|and)?\s*(?=(?:the\s+)?[A-Za-z][\w .'-]{0,30}?\s+(?:"
            + REPLY_VERBS
            + "|"
            + ASK_VERBS
            + r")\b)",
            ln,
        )
        sentences += [s for s in parts if s and s.strip()]
    for s in sentences:
        m = SEQ_ARROW.match(s)
        if m:
            a, b = who(m.group("a")), who(m.group("b"))
            msgs.append((a, b, m.group("msg"), m.group("arrow").startswith("--")))
            continue
        d = SEQ_DIRECT.match(s)
        if d and not SEQ_PROSE.match(s):
            a, b = who(d.group("a")), who(d.group("b"))
            msgs.append((a, b, d.group("verb").lower().rstrip("s").replace("querie", "query"), False))
            continue
        p = SEQ_PROSE.match(s)
        if p:
            verb = p.group("verb").lower()
            reply = re.fullmatch(REPLY_VERBS, verb) is not None
            a_raw, b_raw = p.group("a"), p.group("b")
            prep = p.group("prep").lower()
            msg = (p.group("msg") or "").strip() or (p.group("msg2") or "").strip()
            if prep == "from" and verb.startswith(("get", "fetch", "download", "read", "load", "request")):
                text = f"{verb.rstrip('s') if verb.endswith('es') is False else verb} {msg}".strip()
                a, b = who(a_raw), who(b_raw)
                msgs.append((a, b, text, False))
                continue
            if prep in ("with", "on", "in") and not reply:
                continue
            a, b = who(a_raw), who(b_raw)
            msg = re.sub(r"^(?:with|a|an|the)\s+", "", msg, flags=re.I)
            msg = re.sub(r"^(?:a|an|the)\s+", "", msg, flags=re.I)
            if not msg:
                msg = verb
            elif not reply and verb not in ("sends", "send", "passes", "pass", "forwards", "forward"):
                msg = f"{verb} {msg}"
            msgs.append((a, b, msg, reply))
    return participants, msgs


def render_seq(participants: list[str], msgs: list[tuple[str, str, str, bool]]) -> list[str]:
    out = ["sequenceDiagram"]
    ids: dict[str, str] = {}
    for p in participants:
        ident = re.sub(r"[^A-Za-z0-9_]", "", p.title().replace(" ", "")) or f"P{len(ids) + 1}"
        while ident in ids.values():
            ident += "2"
        ids[p] = ident
        kind = (
            "actor"
            if re.fullmatch(r"(?:user|customer|client user|admin|person|buyer|visitor)s?", p, re.I)
            else "participant"
        )
        out.append(f"    {kind} {ident}" + (f" as {p}" if ident != p else ""))
    for a, b, msg, reply in msgs:
        arrow = "-->>" if reply else "->>"
        out.append(f"    {ids[a]}{arrow}{ids[b]}: {msg.replace(';', ',').replace('#', '')}")
    return out


# --------------------------------------------------------------------------- main


def main() -> int:
    try:
        text = sys.stdin.buffer.read().decode("utf-8", "replace")
    except (OSError, ValueError):
        text = ""
    if not text.strip():
        raise Refusal("Describe the process, e.g. 'Start -> Receive order -> Payment ok?' or numbered steps.")
    fences = re.findall(r"```[\w+-]*[ \t]*\n(.*?)```", text, re.S)
    body = "\n".join(fences) if fences else text
    direction = "TD"
    if re.search(r"\bleft[- ]to[- ]right\b|\bhorizontal(?:ly)?\b|\bLR\b", text, re.I):
        direction = "LR"
    elif re.search(r"\bright[- ]to[- ]left\b|\bRL\b", text):
        direction = "RL"
    elif re.search(r"\bbottom[- ]to[- ]top\b|\bBT\b", text):
        direction = "BT"
    lines = [ln for ln in body.splitlines() if ln.strip()]
    if lines:
        lines[0] = re.sub(
            r"^\s*[^:]{0,60}?\b(?:sequence diagram|diagram|flowchart|flow chart|chart|mermaid(?: code)?)\b"
            r"[^:]{0,60}:\s*(?=\S)",
            "",
            lines[0],
            count=1,
            flags=re.I,
        )
        ask = r"^\s*(?:please\s+)?(?:make|draw|create|build|generate|turn|convert|give me|i need|can you|show)\b"
        if re.match(ask + r"[^:]*:\s*\S", lines[0], re.I):
            lines[0] = re.sub(ask + r"[^:]*:\s*", "", lines[0], count=1, flags=re.I)
        elif re.match(ask + r"[^:]*:?\s*$", lines[0], re.I) and len(lines) > 1:
            lines = lines[1:]
    wants_seq = re.search(r"\bsequence\b|\binteraction\b|\bmessages?\b between", text, re.I) is not None
    seq_lines = [ln for ln in lines if SEQ_ARROW.match(ln)]
    arrow_lines = [ln for ln in lines if ARROW.search(ln)]
    participants, msgs = seq_from_text(lines) if (wants_seq or seq_lines) else ([], [])
    if not msgs and not arrow_lines and not re.search(r"flow|\bsteps?\b|\bif\b|\?", text, re.I):
        participants, msgs = seq_from_text(lines)
        if len(msgs) < 2:
            participants, msgs = [], []
    out: list[str] = []
    if msgs and (wants_seq or len(seq_lines) >= max(1, len(arrow_lines) * 0.6) or not arrow_lines):
        code = render_seq(participants, msgs)
        out.append(f"# Sequence diagram: {len(participants)} participants, {len(msgs)} messages")
        out.append("")
        out.append("```mermaid")
        out += code
        out.append("```")
        notes = ["replies (returns, responds, `-->`) are dashed arrows"]
    else:
        flow = Flow()
        if not flow_from_arrows(lines, flow):
            steps = split_steps("\n".join(lines))
            if len(steps) < 2:
                raise Refusal(
                    "Give at least two steps: an arrow chain like 'Start -> Check stock -> In stock?' or numbered "
                    "steps ('1. Receive order 2. Payment ok? 3. Ship')."
                )
            flow_from_steps(steps, flow)
        if len(flow.nodes) > 200:
            raise Refusal("More than 200 steps; split the process into several diagrams.")
        decisions = sum(1 for n in flow.nodes if n.shape == "decision")
        out.append(
            f"# Flowchart ({direction}): {len(flow.nodes)} nodes, {len(flow.edges)} edges, "
            f"{decisions} decision{'' if decisions == 1 else 's'}"
        )
        out.append("")
        out.append("```mermaid")
        out += render_flow(flow, direction)
        out.append("```")
        notes = list(dict.fromkeys(flow.notes))
        if any(n.shape == "decision" for n in flow.nodes):
            notes.append("questions are drawn as decision diamonds")
        dead = [n.label for n in flow.nodes if not any(e[0] == n.nid for e in flow.edges) and n.shape != "terminal"]
        if dead and len(flow.nodes) > 1:
            notes.append(f"no arrow leaves: {', '.join(dead[:5])}" + (" (the last step)" if len(dead) == 1 else ""))
    out.append("")
    out.append("Paste the block into GitHub/GitLab Markdown, Notion, Obsidian or https://mermaid.live to render it.")
    for n in notes:
        out.append(f"Note: {n}.")
    body_out = "\n".join(out)
    if len(body_out) > 15_000:
        body_out = body_out[:14_800] + "\n\n(output cut at 15 KB)"
    print(body_out)
    return 0


if __name__ == "__main__":
    try:
        status = main()
    except Refusal as exc:
        print(exc)
        status = 2
    except Exception as exc:  # a bug: one line, never a traceback
        print(f"mermaid.py failed unexpectedly: {type(exc).__name__}: {exc}")
        status = 1
    sys.exit(status)
