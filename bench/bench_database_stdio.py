"""k2-database against MotherDuck's mcp-server-motherduck over stdio, with DuckDB in-process as the floor.

    python3 dev.py bench bench/bench_database_stdio.py        (or .venv/bin/python bench/bench_database_stdio.py)
    .venv/bin/python bench/bench_database_stdio.py --agg-calls 200 --fetch-calls 200 --warmup 20 --rounds 5
    .venv/bin/python bench/bench_database_stdio.py --rows floor ours --ours "/path/to/k2-database"

All of them read one DuckDB file of 1,000,000 rows (events: id BIGINT, category VARCHAR of 100 values,
amount DOUBLE, ts TIMESTAMP; deterministic), built once and cached under .cache/bench/. Two queries:

    aggregate   a GROUP BY over the whole table (100 groups: count, sum, avg, max per category)
    fetch       1,000 whole rows picked by an id range

The rows of the table:

    floor       the same SQL on the same file through the duckdb module in-process, one read-only connection
                kept open, `execute(sql).fetchall()` timed; once with the duckdb of the Python running this
                script (our venv: the floor the target is measured against) and once with the peer's pinned
                duckdb, run by the peer's Python, so an engine-version gap is not read as server overhead
    ours        .venv/bin/k2-database --db FILE --max-rows 10000, tool `query_database`
    peer        mcp-server-motherduck (PEER_PIN) --db-path FILE --max-chars 10000000, tool `execute_query`, by
                default (a new DuckDB connection per query) and with --no-ephemeral-connections. Its default
                --max-chars (50,000) would cut the 1,000-row answer short, so it is raised for both modes.

The servers are spoken to with the raw JSON-RPC client of bench_filesystem_stdio.py (RpcPipe: the handshake,
newline-delimited JSON over the pipes), one `tools/call` at a time, each timed from the write of the request to
its parsed answer. Every target is started first (all open the file read-only), checked once per query (a
success carrying the expected row count; afterwards every answer must be a success holding an expected value)
and warmed up with --warmup calls per query. The measured calls are then spread over --rounds rounds; each
round runs a share of every query on every target, the targets' order rotating, so load from elsewhere on the
machine falls on all of them alike. cpu is the server process's CPU time (all its threads) per call.

The peer is installed with pip into .cache/bench/motherduck-venv on first use: it pins an older duckdb than
ours, so it gets its own venv. The data file is written by that older duckdb (a file written by a newer duckdb
cannot be opened by an older one; the other way round works). Without the peer's venv the file is written by
our duckdb through ATTACH ... (STORAGE_VERSION 'v1.0.0'), which the older one reads too. The peer's FastMCP
runs with FASTMCP_CHECK_FOR_UPDATES=off, so it does not ask PyPI for a newer version at start-up.

Figures only: nothing here asserts on time. The issue's targets are printed with the ratios.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
import venv
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from bench_filesystem_stdio import Case, RpcPipe, check, cpu_seconds  # noqa: E402  (the raw JSON-RPC stdio driver)

CACHE = ROOT / ".cache" / "bench"
PEER_PIN = "mcp-server-motherduck==1.1.0"
PEER_VENV = CACHE / "motherduck-venv"
PEER_BIN = PEER_VENV / "bin" / "mcp-server-motherduck"
PEER_PY = PEER_VENV / "bin" / "python"
PEER_ENV = {"FASTMCP_CHECK_FOR_UPDATES": "off", "FASTMCP_SHOW_SERVER_BANNER": "false"}

ROWS = 1_000_000
DATA_VERSION = 1  # bump when BUILD_SQL changes: the cached file is named after it
DB_FILE = CACHE / f"events-{ROWS // 1_000_000}m-v{DATA_VERSION}.duckdb"
BUILD_SQL = f"""
CREATE TABLE events AS
SELECT i AS id,
       'cat_' || lpad(CAST((i * 7919) % 100 AS VARCHAR), 3, '0') AS category,
       ((i * 2654435761) % 1000000) / 100.0 AS amount,
       TIMESTAMP '2024-01-01' + to_seconds(i * 31) AS ts
FROM range({ROWS}) t(i)
"""
AGG_SQL = (
    "SELECT category, count(*) AS n, sum(amount) AS total, avg(amount) AS mean, max(ts) AS last_ts "
    "FROM events GROUP BY category ORDER BY category"
)
FETCH_SQL = "SELECT id, category, amount, ts FROM events WHERE id >= 500000 AND id < 501000 ORDER BY id"


@dataclass
class Query:
    label: str
    sql: str
    rows: int  # rows every answer must carry
    expect: str  # text every answer must contain (the driver checks it on every call)


QUERIES = [Query("aggregate", AGG_SQL, 100, "cat_099"), Query("fetch", FETCH_SQL, 1000, "500999")]


@dataclass
class Stats:
    calls: int
    seconds: float
    p50_ms: float
    p99_ms: float
    cpu_us: float | None = None  # server CPU per call (user + system, all threads); None in-process
    answer_bytes: int | None = None  # size of one JSON-RPC answer

    @property
    def rate(self) -> float:
        return self.calls / self.seconds


def stats_of(latencies: list[float], seconds: float) -> Stats:
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return Stats(len(latencies), seconds, cuts[49] * 1e3, cuts[98] * 1e3)


# ---------------------------------------------------------------- in-process work (also run in the peer's venv)


def build_db(path: Path, compat_attach: bool) -> None:
    import duckdb

    if compat_attach:  # a newer duckdb writing a file the peer's older one can open
        con = duckdb.connect()
        con.execute(f"ATTACH '{path}' AS bench (STORAGE_VERSION 'v1.0.0')")
        con.execute("USE bench")
    else:
        con = duckdb.connect(str(path))
    con.execute(BUILD_SQL)
    con.execute("CHECKPOINT")
    con.close()


def run_floor(con, sql: str, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        con.execute(sql).fetchall()
        out.append(time.perf_counter() - t0)
    return out


def worker(argv: list[str]) -> int:
    """Entry for the copies of this script run by the peer's Python: build the file, or serve floor timings
    (one JSON request a line on stdin, one JSON answer a line on stdout)."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--worker", choices=["build", "floor"], required=True)
    ap.add_argument("--db", type=Path, required=True)
    a = ap.parse_args(argv)
    if a.worker == "build":
        build_db(a.db, compat_attach=False)
        return 0
    import duckdb

    con = duckdb.connect(str(a.db), read_only=True)
    for line in sys.stdin:
        msg = json.loads(line)
        if "version" in msg:
            out = duckdb.__version__
        elif "rows" in msg:
            out = len(con.execute(msg["rows"]).fetchall())
        else:
            out = run_floor(con, msg["sql"], msg["n"])
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()
    con.close()
    return 0


# ---------------------------------------------------------------- setup


def have_local_duckdb() -> bool:
    return importlib.util.find_spec("duckdb") is not None


def ensure_peer() -> bool:
    marker = PEER_VENV / ".k2-pin"
    if PEER_BIN.exists() and marker.exists() and marker.read_text() == PEER_PIN:
        return True
    print(f"installing {PEER_PIN} into {PEER_VENV.relative_to(ROOT)} (pip)", file=sys.stderr)
    try:
        venv.EnvBuilder(with_pip=True, clear=True).create(PEER_VENV)
        pip = [str(PEER_PY), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
        subprocess.run([*pip, PEER_PIN], check=True)
    except (subprocess.CalledProcessError, OSError) as e:
        print(f"could not install the peer ({e}): its rows are left out", file=sys.stderr)
        return False
    marker.write_text(PEER_PIN)
    return PEER_BIN.exists()


def peer_versions() -> dict[str, str]:
    code = (
        "import importlib.metadata as m, json; "
        "print(json.dumps({p: m.version(p) for p in ['mcp-server-motherduck', 'duckdb', 'fastmcp', 'mcp']}))"
    )
    return json.loads(subprocess.run([str(PEER_PY), "-c", code], capture_output=True, text=True, check=True).stdout)


def ensure_db(peer: bool) -> Path:
    if DB_FILE.exists():
        return DB_FILE
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = DB_FILE.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    print(f"building {DB_FILE.relative_to(ROOT)} ({ROWS:,} rows)", file=sys.stderr)
    if peer:  # the older duckdb writes it, so both can read it
        subprocess.run([str(PEER_PY), __file__, "--worker", "build", "--db", str(tmp)], check=True)
    elif have_local_duckdb():
        build_db(tmp, compat_attach=True)
    else:
        raise SystemExit("neither the peer's venv nor a duckdb module here: cannot build the data file")
    tmp.rename(DB_FILE)
    return DB_FILE


def ours_command() -> list[str] | None:
    script = Path(sys.executable).with_name("k2-database")
    if script.exists():
        return [str(script)]
    if importlib.util.find_spec("k2_database") is not None:
        return [sys.executable, "-m", "k2_database"]
    return None


# ---------------------------------------------------------------- measuring


def count_rows(obj: object) -> int | None:
    """Rows in a tool result, wherever the server put them: structuredContent, or JSON in a text block."""
    if isinstance(obj, dict):
        if isinstance(obj.get("rows"), list):
            return len(obj["rows"])
        for key in ("structuredContent", "result"):
            if key in obj and (n := count_rows(obj[key])) is not None:
                return n
        for block in obj.get("content") or []:
            if isinstance(block, dict) and block.get("type") == "text" and (n := count_rows(block["text"])) is not None:
                return n
    if isinstance(obj, str):
        try:
            return count_rows(json.loads(obj))
        except ValueError:
            return None
    return None


class Target:
    """One row of the table: something that runs a query n times and says how long each took."""

    def __init__(self, key: str, name: str) -> None:
        self.key, self.name = key, name
        self.latencies: dict[str, list[float]] = {q.label: [] for q in QUERIES}
        self.seconds: dict[str, float] = dict.fromkeys(self.latencies, 0.0)
        self.cpu: dict[str, float | None] = dict.fromkeys(self.latencies, 0.0)
        self.answer_bytes: dict[str, int | None] = dict.fromkeys(self.latencies)

    def check(self, q: Query) -> None: ...

    def timed(self, q: Query, n: int) -> list[float]:
        raise NotImplementedError

    def cpu_now(self) -> float | None:
        return None

    def run(self, q: Query, n: int, keep: bool = True) -> None:
        cpu0 = self.cpu_now()
        t0 = time.perf_counter()
        lat = self.timed(q, n)
        t1 = time.perf_counter()
        cpu1 = self.cpu_now()
        if keep:
            self.latencies[q.label] += lat
            self.seconds[q.label] += t1 - t0
            spent = self.cpu[q.label]
            self.cpu[q.label] = None if spent is None or cpu0 is None or cpu1 is None else spent + cpu1 - cpu0

    def stats(self, label: str) -> Stats | None:
        lat = self.latencies[label]
        if len(lat) < 2:
            return None
        s = stats_of(lat, self.seconds[label])
        spent = self.cpu[label]
        s.cpu_us = None if spent is None else spent / len(lat) * 1e6
        s.answer_bytes = self.answer_bytes[label]
        return s

    def close(self) -> None: ...


class InProcess(Target):
    """The floor: duckdb in this very process, one read-only connection, execute().fetchall() timed."""

    def __init__(self, db: Path) -> None:
        import duckdb

        super().__init__("floor", f"floor: duckdb {duckdb.__version__} in-process")
        self.version = duckdb.__version__
        self.con = duckdb.connect(str(db), read_only=True)

    def check(self, q: Query) -> None:
        n = len(self.con.execute(q.sql).fetchall())
        if n != q.rows:
            raise RuntimeError(f"{self.name} {q.label}: {n} rows, expected {q.rows}")

    def timed(self, q: Query, n: int) -> list[float]:
        return run_floor(self.con, q.sql, n)

    def close(self) -> None:
        self.con.close()


class Worker(Target):
    """The floor with the peer's duckdb: this script run by the peer's Python, asked for n timings at a time."""

    def __init__(self, db: Path) -> None:
        argv = [str(PEER_PY), __file__, "--worker", "floor", "--db", str(db)]
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.version = self.ask({"version": True})
        super().__init__("peer-floor", f"floor: duckdb {self.version} in-process (peer's)")

    def ask(self, msg: dict):
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(msg) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the floor worker in the peer's venv ended (exit code {self.proc.wait()})")
        return json.loads(line)

    def check(self, q: Query) -> None:
        n = self.ask({"rows": q.sql})
        if n != q.rows:
            raise RuntimeError(f"{self.name} {q.label}: {n} rows, expected {q.rows}")

    def timed(self, q: Query, n: int) -> list[float]:
        return self.ask({"sql": q.sql, "n": n})

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=10)


class Server(Target):
    """An MCP server over stdio, driven by the raw JSON-RPC client of bench_filesystem_stdio.py, one call at a time."""

    def __init__(self, key: str, name: str, argv: list[str], tool: str, log: Path) -> None:
        super().__init__(key, name)
        self.tool = tool
        self.pipe = RpcPipe(argv, ROOT, log)
        self.pipe.handshake()

    def call(self, q: Query) -> tuple[float, dict]:
        """One tools/call, timed from the write of the request to its parsed answer (as RpcPipe.run does)."""
        pipe = self.pipe
        payload = pipe.request("tools/call", {"name": self.tool, "arguments": {"sql": q.sql}})
        want = pipe.next_id
        t0 = time.perf_counter()
        pipe.send([payload])
        while True:
            for msg in pipe.receive():
                if msg.get("id") == want:
                    return time.perf_counter() - t0, msg

    def check(self, q: Query) -> None:
        _, msg = self.call(q)
        result = msg.get("result")
        if not isinstance(result, dict) or result.get("isError"):
            raise RuntimeError(f"{self.name} {q.label}: not a successful answer: {json.dumps(msg)[:600]}")
        n = count_rows(result)
        if n != q.rows:
            raise RuntimeError(f"{self.name} {q.label}: {n} rows, expected {q.rows}: {json.dumps(msg)[:600]}")
        self.answer_bytes[q.label] = len(json.dumps(msg, separators=(",", ":")).encode())

    def timed(self, q: Query, n: int) -> list[float]:
        case = Case(q.label, self.tool, {"sql": q.sql}, q.expect)
        out = []
        for _ in range(n):
            took, msg = self.call(q)
            check(case, msg)  # every answer: a success that carries the expected text
            out.append(took)
        return out

    def cpu_now(self) -> float | None:
        return cpu_seconds(self.pipe.proc.pid)

    def close(self) -> None:
        self.pipe.close()


def measure(targets: list[Target], args: argparse.Namespace) -> None:
    """Warm every target up, then rounds: each round runs a share of every case on every target, the order of
    the targets rotating, so load from elsewhere on the machine falls on all of them alike."""
    for t in list(targets):
        try:
            for q in QUERIES:
                t.check(q)
                t.run(q, args.warmup, keep=False)
        except (RuntimeError, OSError) as e:
            print(f"{t.name}: left out: {e}", file=sys.stderr)
            targets.remove(t)
            t.close()
    calls = {"aggregate": args.agg_calls, "fetch": args.fetch_calls}
    for r in range(args.rounds):
        order = targets[r % len(targets) :] + targets[: r % len(targets)]
        for q in QUERIES:
            share = calls[q.label] // args.rounds + (1 if r < calls[q.label] % args.rounds else 0)
            for t in order:
                t.run(q, share)


# ---------------------------------------------------------------- report


def ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:6.2f}" if a and b else f"{'-':>6}"


def report(targets: list[Target], args: argparse.Namespace, notes: list[str]) -> None:
    print()
    print(f"k2-database (ours) vs {PEER_PIN.replace('==', ' ')} (peer), over stdio; DuckDB in-process as the floor")
    load = f"load average {args.load_before:.2f} before, {os.getloadavg()[0]:.2f} after"
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, {load}")
    for v in notes:
        print(v)
    columns = "id BIGINT, category VARCHAR x100, amount DOUBLE, ts TIMESTAMP"
    print(f"data: {DB_FILE.relative_to(ROOT)}, {ROWS:,} rows ({columns})")
    for q in QUERIES:
        print(f"{q.label:<9}: {q.sql}  ({q.rows} rows)")
    print(f"one call at a time; {args.warmup} warm-up calls per case, then {args.rounds} interleaved rounds")
    print("latency in ms per call; cpu: server CPU us per call (all its threads); bytes: one JSON-RPC answer")
    print("ours/x: ours' p50 (and p99) over that row's; below 1.00 means ours is faster")
    print()
    ours = next((t for t in targets if t.key == "ours"), None)
    head = f"{'case':<9}  {'':<44} {'calls':>5} {'calls/s':>8} {'p50':>8} {'p99':>8} {'cpu':>7} {'bytes':>7}"
    print(f"{head}  {'ours/x p50':>10} {'p99':>6}")
    print("-" * 121)
    for q in QUERIES:
        o = ours.stats(q.label) if ours else None
        for t in targets:
            f = t.stats(q.label)
            if f is None:
                continue
            cpu = f"{f.cpu_us:7.0f}" if f.cpu_us is not None else f"{'-':>7}"
            size = f"{f.answer_bytes:7d}" if f.answer_bytes is not None else f"{'-':>7}"
            x = o if t is not ours else None
            rr = f"{ratio(x and x.p50_ms, f.p50_ms):>10} {ratio(x and x.p99_ms, f.p99_ms)}"
            line = f"{q.label:<9}  {t.name:<44} {f.calls:5d} {f.rate:8.0f} {f.p50_ms:8.2f} {f.p99_ms:8.2f}"
            print(f"{line} {cpu} {size}  {rr}")
        print()
    if ours is None:
        print("ours: no k2-database in this venv (or left out): its rows and the targets are left out")
        return
    print("targets (issue): ahead of MotherDuck in both modes; aggregate within 1.3x of the in-process floor")
    for t in targets:
        if t.key.startswith("peer:"):
            for q in QUERIES:
                o, p = ours.stats(q.label), t.stats(q.label)
                if o and p:
                    verdict = "ahead" if o.p50_ms < p.p50_ms else "BEHIND"
                    print(f"  {q.label:<9} ours / {t.name:<44} p50 {o.p50_ms / p.p50_ms:6.3f}  {verdict}")
    floor = next((t for t in targets if t.key == "floor"), None)
    if floor:
        o, f = ours.stats("aggregate"), floor.stats("aggregate")
        if o and f:
            verdict = "met" if o.p50_ms <= 1.3 * f.p50_ms else "MISSED"
            print(f"  aggregate ours / {floor.name:<44} p50 {o.p50_ms / f.p50_ms:6.3f}  (target 1.30: {verdict})")
            print(f"  {'':<9} {'':<51} p99 {o.p99_ms / f.p99_ms:6.3f}")


def main() -> int:
    if "--worker" in sys.argv:
        return worker(sys.argv[1:])
    ap = argparse.ArgumentParser(description="k2-database vs mcp-server-motherduck over stdio, DuckDB as the floor")
    ap.add_argument("--agg-calls", type=int, default=200, help="measured aggregate calls per row")
    ap.add_argument("--fetch-calls", type=int, default=200, help="measured 1,000-row fetches per row")
    ap.add_argument("--warmup", type=int, default=20, help="calls of each case before the measured ones")
    ap.add_argument("--rounds", type=int, default=5, help="the measured calls are spread over this many rounds")
    all_rows = ["floor", "peer-floor", "ours", "peer", "peer-persistent"]
    ap.add_argument("--rows", nargs="+", choices=all_rows, default=all_rows, help="which rows to measure")
    ap.add_argument(
        "--ours", type=shlex.split, help="our server's command line (one string), instead of .venv/bin/k2-database"
    )
    ap.add_argument("--json", type=Path, help="also write the figures to this file")
    args = ap.parse_args()
    args.load_before = os.getloadavg()[0]

    want_peer = bool({"peer", "peer-floor", "peer-persistent"} & set(args.rows))
    peer = ensure_peer() if want_peer or not DB_FILE.exists() else PEER_BIN.exists()
    db = ensure_db(peer)
    os.environ.update(PEER_ENV)
    notes: list[str] = []
    targets: list[Target] = []
    try:
        with tempfile.TemporaryDirectory(prefix="k2-bench-db-") as tmp:
            logs = Path(tmp)
            if "floor" in args.rows and have_local_duckdb():
                floor = InProcess(db)
                targets.append(floor)
                notes.append(f"ours: duckdb {floor.version}")
            elif "floor" in args.rows:
                print("no duckdb module in this Python: the in-process floor is left out", file=sys.stderr)
            if peer and want_peer:
                notes.append("peer: " + ", ".join(f"{k} {v}" for k, v in peer_versions().items()))
            if "peer-floor" in args.rows and peer:
                targets.append(Worker(db))
            ours = args.ours or ours_command()
            if "ours" in args.rows and ours:
                argv = [*ours, "--db", str(db), "--max-rows", "10000"]
                try:
                    targets.append(Server("ours", "ours: k2-database", argv, "query_database", logs / "ours.log"))
                    notes.append("ours: " + " ".join([Path(argv[0]).name, *argv[1:]]))
                except (RuntimeError, OSError) as e:
                    print(f"ours: left out, it did not start: {e}", file=sys.stderr)
            peer_argv = [str(PEER_BIN), "--transport", "stdio", "--db-path", str(db), "--max-chars", "10000000"]
            if "peer" in args.rows and peer:
                name = "peer: motherduck (default: ephemeral conns)"
                targets.append(Server("peer:default", name, peer_argv, "execute_query", logs / "peer.log"))
            if "peer-persistent" in args.rows and peer:
                argv = [*peer_argv, "--no-ephemeral-connections"]
                name = "peer: motherduck --no-ephemeral-connections"
                targets.append(Server("peer:persistent", name, argv, "execute_query", logs / "peer-persistent.log"))
            if peer and want_peer:
                flags = " ".join(peer_argv[1:])
                notes.append(f"peer: mcp-server-motherduck {flags} [--no-ephemeral-connections]")
            measure(targets, args)
    finally:
        for t in targets:
            t.close()

    report(targets, args, notes)
    if args.json:
        data = {t.key: {q.label: vars(s) for q in QUERIES if (s := t.stats(q.label))} for t in targets}
        args.json.write_text(json.dumps({"notes": notes, "rows": data}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
