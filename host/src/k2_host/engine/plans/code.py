"""The `code` plan: run the code (or the arithmetic) in the question in the codeexec sandbox."""

from __future__ import annotations

from k2_host.engine import text as tx
from k2_host.engine.plan_run import PlanRun
from k2_host.engine.plans import Plan
from k2_host.results import Citation


async def run(p: PlanRun, query: str) -> str | None:
    code = tx.find_code(query)
    if code is None:
        return None
    res = await p.call("codeexec.execute_python", {"code": code})
    if res.is_error or not res.structured:
        return f"The code could not run: {res.text}"
    s = res.structured
    out = (s.get("stdout") or "").strip()
    value = s.get("value")
    shown = out or (value if value is not None else "")
    p.result.citations.append(Citation(source="codeexec", location="execute_python", text=code))
    status = (
        ""
        if s.get("exit_code") == 0
        else f" (exit code {s.get('exit_code')}: {(s.get('stderr') or '').strip()[-300:]})"
    )
    return f"Ran it in the sandbox: {shown or '(no output)'}{status}"


PLAN = Plan(
    name="code",
    server="codeexec",
    description="run Python code, compute or calculate a numeric result, execute a script",
    run=run,
    sign=lambda q: tx.find_code(q) is not None,
    after=("files",),
    routed=False,  # code needs something to run: only explicit signs route here
)
