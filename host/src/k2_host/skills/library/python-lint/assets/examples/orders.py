# ruff: noqa
# (an example input for the python-lint skill: the mistakes below are on purpose)
import json
import os
import sys
from typing import Optional


def add_item(item, cart=[]):
    cart.append(item)
    return cart


def load(path, type="json"):
    try:
        with open(path) as fh:
            data = json.load(fh)
    except:
        data = None
    if data == None:
        return {}
    return data


def total(order):
    result = 0
    for line in order["lines"]:
        subtotal = line["price"] * line["qty"]
        result += line["price"] * line["qty"]
    return result
    print("done")


def status(order):
    if order.get("paid") is "yes":
        return f"paid"
    try:
        notify(order)
    except Exception:
        pass
    return stauts_text(order)


def notify(order, channel: Optional[str] = None):
    assert (order, "order is required")
    return {"to": order["email"], "to": order["phone"]}


def notify(order):
    sys.stdout.write(str(order))
