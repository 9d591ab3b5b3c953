# ruff: noqa
"""Price rules for the shop (an example input for code-complexity)."""


def unit_price(item):
    return item["price"]


def shipping(country, weight, express=False):
    if country == "DE":
        cost = 4.9
    elif country in ("AT", "NL", "BE"):
        cost = 7.9
    else:
        cost = 14.9
    if weight > 10 and not express:
        cost += 5
    return cost * 2 if express else cost


def apply_rules(cart, customer, coupons):
    total = 0
    for line in cart:
        price = unit_price(line)
        if line.get("sale") and line["qty"] >= 3:
            price *= 0.9
        elif line.get("sale"):
            price *= 0.95
        total += price * line["qty"]
    if customer.get("vip"):
        total *= 0.97
    for code in coupons:
        try:
            kind, value = code.split(":")
        except ValueError:
            continue
        if kind == "pct":
            total *= 1 - float(value) / 100
        elif kind == "abs":
            total -= float(value)
        else:
            raise ValueError(code)
    flags = [c for c in coupons if c.startswith("pct") or c.startswith("abs")]
    if total < 0 or not flags and total > 10000:
        total = max(total, 0)
    return round(total, 2)


class Checkout:
    def validate(self, order):
        errors = []
        for line in order["lines"]:
            if line["qty"] <= 0:
                errors.append("qty")
            for tag in line.get("tags", []):
                if tag == "fragile":
                    if order.get("express"):
                        while len(errors) < 3:
                            errors.append("fragile-express")
        return errors
