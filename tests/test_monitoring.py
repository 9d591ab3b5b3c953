"""The Prometheus alert rules in manifests/monitoring: valid (promtool check rules), right (promtool test rules
against their unit tests), and only about metrics the host really exports.

Without promtool (Debian's prometheus package) a test skips, unless K2_REQUIRE_PROMETHEUS=1 (CI) makes that
a failure.

The live check runs Prometheus itself on loopback: it scrapes a `k2 serve` (with a scripted model) and the
four servers over Streamable HTTP while a workload runs, and every dashboard panel's query must return series
and every alert rule must evaluate cleanly (health "ok") on what it scraped, with series for every metric it
reads (a rule's threshold is not crossed by a healthy workload, so the rule's own result may be empty)."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest
import yaml
from k2_host.api.metrics import ApiMetrics
from k2_host.config import ConfigError, HostConfig
from k2_host.learning.experiences import ExperienceStore
from k2_host.runtime import open_experience_store
from prometheus_client.parser import text_string_to_metric_families

from tests.host.scripted_llm import Turn, scripted_llm, tool_call
from tests.host.serve_support import model_env, served
from tests.monitoring_support import MONITORING, dashboard_queries
from tests.support import http_server
from tests.support import script as script_path

RULES = MONITORING / "prometheus"


def promtool() -> str:
    found = shutil.which("promtool")
    if found is None:
        why = "promtool is not installed (apt install prometheus)"
        if os.environ.get("K2_REQUIRE_PROMETHEUS") == "1":
            pytest.fail(why)
        pytest.skip(why)
    return found


@pytest.mark.parametrize("command", [["check", "rules", "k2-alerts.yml"], ["test", "rules", "k2-alerts.test.yml"]])
def test_promtool_accepts_the_rules_and_their_unit_tests(command: list[str]) -> None:
    done = subprocess.run([promtool(), *command], cwd=RULES, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout


def test_every_alert_is_unit_tested_and_names_only_exported_metrics() -> None:
    rules = [r for g in yaml.safe_load((RULES / "k2-alerts.yml").read_text())["groups"] for r in g["rules"]]
    tested = {
        case["alertname"]
        for test in yaml.safe_load((RULES / "k2-alerts.test.yml").read_text())["tests"]
        for case in test["alert_rule_test"]
        if case.get("exp_alerts")
    }
    assert {r["alert"] for r in rules} == tested  # each alert has a case where it fires

    learning = ExperienceStore(None)  # one gated (rejected) candidate: every learning gauge is there
    learning.set_status(learning.add_version("candidate", [], {}), "rejected", "worse")
    metrics = ApiMetrics(
        lambda: [{"server": "fs", "instance": "fs", "connected": True, "breaker": "closed"}],
        learning=learning.summary,
    )
    metrics.http_requests.labels("GET", "/v1/models", "200").inc()
    metrics.requests.labels("offline", "done").inc()
    metrics.http_latency.labels("/v1/models").observe(0.01)
    metrics.tool_calls.labels("fs", "read", "ok").inc()
    samples = [s for f in text_string_to_metric_families(metrics.text().decode()) for s in f.samples]
    exported = {s.name for s in samples}
    gauges = {(s.name, s.labels.get("status", "")): s.value for s in samples if s.name.startswith("k2_learning")}
    assert gauges[("k2_learning_router_versions", "rejected")] == 1 and gauges[("k2_learning_replay_size", "")] == 0
    assert gauges[("k2_learning_last_gate_promoted", "")] == 0 and gauges[("k2_learning_replay_capacity", "")] == 10_000
    for rule in rules:
        for name in re.findall(r"\bk2_[a-z_]+", rule["expr"]):
            assert name in exported, (rule["alert"], name)


# ------------------------------------------------------------------------------------------ the live check


def alert_series() -> list[tuple[str, str, str]]:
    """("alert", alert name, a query for one metric it reads) for every k2_ metric of every alert rule."""
    rules = [r for g in yaml.safe_load((RULES / "k2-alerts.yml").read_text())["groups"] for r in g["rules"]]
    return [
        ("alert", r["alert"], f"count({name})")
        for r in rules
        for name in sorted(set(re.findall(r"\bk2_[a-z_]+", r["expr"])))
    ]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def scrape_config(tmp: Path, host: str, servers: dict[str, str]) -> Path:
    def job(name: str, base: str, labels: dict[str, str]) -> dict[str, Any]:
        target = base.removeprefix("http://").split("/", 1)[0]
        return {
            "job_name": name,
            "metrics_path": "/metrics",
            "static_configs": [{"targets": [target], "labels": labels}],
        }

    jobs = [job("k2", host, {"pod": "k2-0"})]
    jobs += [job(f"k2-mcp-{name}", url, {}) for name, url in servers.items()]
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(RULES / "k2-alerts.yml")],
        "scrape_configs": jobs,
    }
    path = tmp / "prometheus.yml"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.mark.slow  # Prometheus, `k2 serve`, the four servers over Streamable HTTP and a scripted model
@pytest.mark.anyio
async def test_prometheus_scrapes_the_host_and_servers_and_every_panel_and_alert_has_data(tmp_path: Path) -> None:
    prometheus = shutil.which("prometheus")
    promtool()  # the same package: skipped (or, in CI, failed) together
    assert prometheus is not None
    root = tmp_path / "proj"
    root.mkdir()
    (root / "staging.yaml").write_text("port: 8443\n")
    script = [
        Turn(  # request 1: four tools in parallel, one of them failing (a missing file)
            tool_calls=[
                tool_call("filesystem.read_file", {"path": "staging.yaml"}),
                tool_call("filesystem.read_file", {"path": "missing.txt"}),
                tool_call("database.query_database", {"sql": "SELECT 6 * 7 AS answer"}),
                tool_call("codeexec.execute_python", {"code": "print(6 * 7)"}),
            ],
            usage={"prompt_tokens": 900, "completion_tokens": 40},
        ),
        Turn(text="Port 8443; 42.", usage={"prompt_tokens": 1200, "completion_tokens": 6, "cached_tokens": 900}),
        Turn(tool_calls=[tool_call("filesystem.read_file", {"path": "staging.yaml"})]),  # 2: a cache hit
        Turn(text="Still 8443."),
        Turn(tool_calls=[tool_call("skills.run", {"name": "convert-units", "request": "5 km in miles"})]),  # 3
        Turn(text="About 3.11 miles."),
    ]
    servers = {"filesystem": ["--root", str(root)], "database": [], "websearch": ["--backend", "local"], "codeexec": []}
    with ExitStack() as stack:
        running = {
            name: stack.enter_context(http_server([script_path(f"k2-{name}"), *args])) for name, args in servers.items()
        }
        config = tmp_path / "mcp.json"
        config.write_text(json.dumps({"mcpServers": {name: {"url": s.url} for name, s in running.items()}}))
        async with scripted_llm(script) as llm:
            env = model_env(
                llm.base_url,
                K2_SKILLS_OFFER="always",
                K2_CONTEXT_WINDOW_TOKENS="32000",  # room for four servers' tools and the skills catalog
            )
            state = tmp_path / "state"
            global_args = ("--config", str(config), "--root", str(root))

            def workload_and_queries() -> tuple[dict[str, Any], list[tuple[str, str, str, int]], list[dict[str, Any]]]:
                with served(state, global_args=global_args, env=env) as (url, _):
                    with httpx.Client(base_url=url, timeout=120) as c:
                        ask = {"model": "k2", "messages": [{"role": "user", "content": "Port of staging, and 6*7?"}]}
                        assert c.post("/v1/chat/completions", json=ask).status_code == 200
                        assert c.post("/v1/chat/completions", json=ask).status_code == 200
                        session = c.post("/v1/sessions", json={}).json()["id"]
                        run = c.post(
                            f"/v1/sessions/{session}/runs",
                            json={"input": "5 km in miles", "skill": "convert-units", "stream": False},
                        )
                        assert run.status_code == 200, run.text
                        rated = c.post("/v1/feedback", json={"run_id": run.json()["id"], "rating": "good"})
                        assert rated.status_code in (200, 201), rated.text
                    # What `k2 learn train` leaves when its gate rejects a candidate (the gate itself, ~40 s of
                    # evaluation, is tested in tests/host/learning): the live /metrics read it from the store.
                    store = open_experience_store(HostConfig(state_dir=state))
                    store.set_status(store.add_version("candidate", [], {}), "rejected", "worse on the gate tasks")
                    store.close()
                    return live_check(prometheus, tmp_path, url, {n: s.url for n, s in running.items()})

            status, panels, rules = await anyio.to_thread.run_sync(workload_and_queries)
    empty = [(d, title, expr) for d, title, expr, n in panels if n == 0]
    assert not empty, f"panels (or alerts' metrics) whose query returned no series: {empty}"
    assert len(panels) == len(dashboard_queries()) + len(alert_series()) > 50
    assert {r["name"] for r in rules} == {
        r["alert"] for g in yaml.safe_load((RULES / "k2-alerts.yml").read_text())["groups"] for r in g["rules"]
    }
    assert all(r["health"] == "ok" for r in rules), [(r["name"], r.get("lastError")) for r in rules]
    assert status["targets"] == {"k2": 1.0, **{f"k2-mcp-{n}": 1.0 for n in servers}}


def query(c: httpx.Client, api: str, promql: str) -> list[dict[str, Any]]:
    answer = c.get(f"{api}/query", params={"query": promql})
    assert answer.status_code == 200, (promql, answer.text)
    return answer.json()["data"]["result"]


def live_check(
    prometheus: str, tmp: Path, host: str, servers: dict[str, str]
) -> tuple[dict[str, Any], list[tuple[str, str, str, int]], list[dict[str, Any]]]:
    """Run Prometheus on loopback against the host and servers until every panel query returns series (or a
    minute passes), and return the targets' health, each panel's series count and the alert rules' state."""
    port = free_port()
    api = f"http://127.0.0.1:{port}/api/v1"
    proc = subprocess.Popen(
        [
            prometheus,
            f"--config.file={scrape_config(tmp, host, servers)}",
            f"--storage.tsdb.path={tmp / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    queries = dashboard_queries() + alert_series()
    try:
        with httpx.Client(timeout=30) as c:
            deadline = time.monotonic() + 90
            counts: list[tuple[str, str, str, int]] = []
            rules: list[dict[str, Any]] = []
            while time.monotonic() < deadline:
                try:
                    if c.get(f"http://127.0.0.1:{port}/-/ready").status_code != 200:
                        continue  # Prometheus is starting (503 until its TSDB is open)
                    counts = [(d, t, q, len(query(c, api, q))) for d, t, q in queries]
                    rules = [r for g in c.get(f"{api}/rules").json()["data"]["groups"] for r in g["rules"]]
                except httpx.TransportError:
                    continue  # not listening yet
                evaluated = rules and all(not r["lastEvaluation"].startswith("0001") for r in rules)
                if evaluated and all(n for *_, n in counts):
                    break
            targets = query(c, api, "up")
        return {"targets": {t["metric"]["job"]: float(t["value"][1]) for t in targets}}, counts, rules
    finally:
        proc.terminate()
        proc.wait(30)


@pytest.mark.anyio
async def test_the_cli_serves_its_metrics_on_loopback_while_a_command_runs(tmp_path: Path) -> None:
    from k2_host.cli import parser
    from k2_host.cli.context import CliContext

    config = tmp_path / "mcp.json"
    config.write_text(json.dumps({"mcpServers": {}}))
    args = parser().parse_args(
        ["--config", str(config), "--state-dir", str(tmp_path / "s"), "--metrics-port", "0", "ask", "hi"]
    )
    ctx = CliContext(args)
    async with ctx.runtime(use_knowledge=False) as rt:
        await rt.ask("What is in the notes?")
        metrics = next(m for m in rt.middleware if isinstance(m, ApiMetrics))
        port = metrics.port
        async with httpx.AsyncClient() as c:
            text = (await c.get(f"http://127.0.0.1:{port}/metrics")).text
    samples = {
        (s.name, s.labels.get("engine", "")): s.value for f in text_string_to_metric_families(text) for s in f.samples
    }
    assert samples[("k2_agent_requests_total", "offline")] == 1
    taken = parser().parse_args(["--config", str(config), "--metrics-port", str(port), "ask", "hi"])
    with pytest.raises(ConfigError, match=f"--metrics-port {port}: cannot listen"):
        CliContext(taken).runtime(use_knowledge=False)
    for bad in ("-1", "70000"):
        out_of_range = parser().parse_args(["--config", str(config), "--metrics-port", bad, "ask", "hi"])
        with pytest.raises(ConfigError, match=f"--metrics-port {bad}: a port is 0-65535"):
            CliContext(out_of_range).runtime(use_knowledge=False)
