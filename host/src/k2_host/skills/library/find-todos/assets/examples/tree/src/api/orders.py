"""Order endpoints."""

import logging

log = logging.getLogger(__name__)
TODO_LIST_LIMIT = 50  # a constant named TODO_..., not a marker


def create_order(payload):
    # TODO(alice): validate the currency against the shop settings
    items = payload.get("items", [])
    if not items:
        raise ValueError("empty order")
    # FIXME: totals are computed with floats; switch to Decimal
    total = sum(i["price"] * i["qty"] for i in items)
    return {"total": total, "items": items}


def cancel_order(order_id):
    # HACK: the payment service has no cancel endpoint yet, so we mark it locally
    log.info("cancel %s", order_id)
    return {"id": order_id, "status": "cancelled"}  # XXX race with the webhook
