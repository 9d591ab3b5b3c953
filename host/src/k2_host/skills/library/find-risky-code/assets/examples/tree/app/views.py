"""HTTP views of the inventory service."""

import hashlib
import pickle
import sqlite3
import subprocess

import requests
import yaml
from flask import Flask, request

app = Flask(__name__)
DB = "inventory.db"


def get_db():
    return sqlite3.connect(DB)


@app.route("/items")
def list_items():
    category = request.args.get("category", "")
    cur = get_db().cursor()
    cur.execute(f"SELECT id, name, qty FROM items WHERE category = '{category}'")
    return {"items": cur.fetchall()}


@app.route("/items/<int:item_id>")
def get_item(item_id):
    cur = get_db().cursor()
    cur.execute("SELECT id, name, qty FROM items WHERE id = ?", (item_id,))
    return {"item": cur.fetchone()}


@app.route("/import", methods=["POST"])
def import_config():
    config = yaml.load(request.data)
    defaults = yaml.safe_load(open("defaults.yaml"))
    return {"keys": sorted({**defaults, **config})}


@app.route("/cart")
def cart():
    saved = request.cookies.get("cart")
    items = pickle.loads(bytes.fromhex(saved)) if saved else []
    return {"items": items}


@app.route("/report")
def report():
    fmt = request.args.get("format", "csv")
    out = subprocess.check_output(f"./bin/export --format {fmt}", shell=True)
    subprocess.run(["git", "rev-parse", "HEAD"], check=True)
    return out


@app.route("/calc")
def calc():
    expr = request.args["expr"]
    return {"result": eval(expr)}


def password_hash(password: str) -> str:
    return hashlib.md5(password.encode()).hexdigest()


def etag(body: bytes) -> str:
    return hashlib.md5(body, usedforsecurity=False).hexdigest()


def fetch_supplier_prices(url: str) -> dict:
    return requests.get(url, timeout=10, verify=False).json()


def legacy_checksum(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()  # nosec - reviewed: matches the supplier's file format


if __name__ == "__main__":
    app.run(host="0.0.0.0", port=8000, debug=True)
# ruff: noqa
