from shop.auth import login


def test_login_rejects_wrong_password(client):
    password = "hunter2hunter2"  # pragma: allowlist secret
    assert login(client, "alice", password + "x").status_code == 401


def test_login_with_env_password(client, monkeypatch):
    monkeypatch.setenv("SHOP_PASSWORD", "not-used")
    assert login(client, "alice", None).status_code == 400


# ruff: noqa
