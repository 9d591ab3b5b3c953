"""`k2 keys` and `k2 audit verify` as a user runs them (real subprocesses)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest


def k2(state: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "k2_host", "--state-dir", str(state), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_keys_are_created_listed_revoked_and_audited(tmp_path: Path) -> None:
    state = tmp_path / "state"
    made = k2(state, "--json", "keys", "create", "--role", "operator", "--name", "deploy bot")
    assert made.returncode == 0, made.stderr
    key = json.loads(made.stdout)
    assert key["role"] == "operator" and key["key"].startswith(f"k2_{key['id']}_")
    listed = json.loads(k2(state, "--json", "keys", "list").stdout)
    assert [(k["id"], k["name"], k["revoked"]) for k in listed] == [(key["id"], "deploy bot", None)]
    assert key["key"] not in (state / "api" / "keys.json").read_text()
    assert k2(state, "keys", "revoke", key["id"]).returncode == 0
    again = k2(state, "keys", "revoke", key["id"])
    assert again.returncode == 1 and "no live key" in again.stderr
    bad = k2(state, "keys", "create", "--role", "root")
    assert bad.returncode == 2 and "invalid choice" in bad.stderr

    ok = k2(state, "--json", "audit", "verify")
    assert ok.returncode == 0 and json.loads(ok.stdout)["records"] == 2  # created, revoked
    log = state / "api" / "audit.jsonl"
    log.write_text(log.read_text().replace("operator", "admin"))
    broken = k2(state, "audit", "verify")
    assert broken.returncode == 1 and "line 1" in broken.stderr and "changed" in broken.stderr
    assert "Traceback" not in broken.stderr


def test_serve_says_what_is_missing_instead_of_starting_open(tmp_path: Path) -> None:
    refused = k2(tmp_path / "state", "serve", "--port", "0")
    assert refused.returncode == 2 and "k2 keys create --role admin" in refused.stderr
    exposed = k2(tmp_path / "state", "serve", "--host", "0.0.0.0", "--no-auth")
    assert exposed.returncode == 2 and "loopback only" in exposed.stderr and "Traceback" not in exposed.stderr


def self_signed(folder: Path) -> tuple[Path, Path]:
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


@pytest.mark.slow  # a real `k2 serve` process with its runtime
def test_serve_over_tls_answers_https_only_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    import ssl

    import httpx

    from tests.host.serve_support import served

    state = tmp_path / "state"
    key = json.loads(k2(state, "--json", "keys", "create", "--role", "viewer", "--name", "probe").stdout)["key"]
    cert, private = self_signed(tmp_path)
    tls = ("--tls-cert", str(cert), "--tls-key", str(private))
    trusted = ssl.create_default_context(cafile=str(cert))
    # served() waits for /readyz over HTTPS, then stops the server with SIGTERM and checks that uvicorn shut
    # down gracefully and re-raised the signal (the exit says SIGTERM, as services expect)
    with served(state, tls, verify=trusted) as (url, _):
        assert url.startswith("https://")
        with httpx.Client(base_url=url, verify=trusted, timeout=60) as c:
            assert c.get("/readyz").status_code == 200
            assert c.get("/v1/models", headers={"Authorization": f"Bearer {key}"}).json()["data"][0]["id"] == "k2"
        with pytest.raises(httpx.HTTPError):  # plain HTTP on the TLS port gets no answer
            httpx.get(url.replace("https://", "http://") + "/healthz", timeout=10).raise_for_status()
    audit = k2(state, "audit", "verify")
    assert audit.returncode == 0, audit.stdout + audit.stderr
    records = [json.loads(line) for line in (state / "api" / "audit.jsonl").read_text().splitlines()]
    assert records[-1]["action"] == "server_stopped"  # the lifespan ran to its end: runtime and servers closed
