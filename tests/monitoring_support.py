"""What the monitoring tests share: the shipped dashboards' panel queries."""

from __future__ import annotations

import json
from pathlib import Path

MONITORING = Path(__file__).resolve().parents[1] / "manifests" / "monitoring"
DASHBOARDS = MONITORING / "grafana" / "dashboards"


def dashboard_queries() -> list[tuple[str, str, str]]:
    """(dashboard file, panel title, PromQL) of every panel target of the shipped dashboards."""
    out = []
    for path in sorted(DASHBOARDS.glob("*.json")):
        for panel in json.loads(path.read_text())["panels"]:
            for target in panel.get("targets", []):
                out.append((path.name, panel["title"], target["expr"]))
    return out
