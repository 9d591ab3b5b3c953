"""HTTP routes."""

from shop.models import Cart, Item

CARTS: dict[str, Cart] = {}


def add_item(cart_id: str, sku: str, price_cents: int) -> int:
    cart = CARTS.setdefault(cart_id, Cart())
    cart.items.append(Item(sku, price_cents))
    return cart.total_cents()


def get_total(cart_id: str) -> int:
    return CARTS[cart_id].total_cents() if cart_id in CARTS else 0
