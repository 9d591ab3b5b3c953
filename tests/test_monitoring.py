"""The Prometheus alert rules in manifests/monitoring: valid (promtool check rules), right (promtool test rules
against their unit tests), and only about metrics the host really exports.

Without promtool (Debian's prometheus package) a test skips, unless K2_REQUIRE_PROMETHEUS=1 (CI) makes that
a failure."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from k2_host.api.metrics import ApiMetrics
from k2_host.learning.experiences import ExperienceStore
from prometheus_client.parser import text_string_to_metric_families

RULES = Path(__file__).resolve().parents[1] / "manifests" / "monitoring" / "prometheus"


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
