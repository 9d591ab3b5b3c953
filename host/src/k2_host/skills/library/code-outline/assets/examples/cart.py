"""Shopping cart: items, discounts and totals."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

MAX_ITEMS = 100
DEFAULT_CURRENCY = "EUR"


@dataclass
class Item:
    """One line of the cart."""

    sku: str
    price: Decimal
    qty: int = 1

    @property
    def subtotal(self) -> Decimal:
        return self.price * self.qty


@dataclass
class Cart:
    """A customer's cart."""

    items: list[Item] = field(default_factory=list)
    code: str | None = None

    def add(self, sku: str, price: Decimal, qty: int = 1) -> None:
        """Add an item, merging with an existing line for the same SKU."""
        if len(self.items) >= MAX_ITEMS:
            raise ValueError("cart is full")
        for item in self.items:
            if item.sku == sku:
                item.qty += qty
                return
        self.items.append(Item(sku, price, qty))

    def total(self, *, currency: str = DEFAULT_CURRENCY) -> Decimal:
        def discount(amount: Decimal) -> Decimal:
            return amount * Decimal("0.9") if self.code == "SAVE10" else amount

        return discount(sum((i.subtotal for i in self.items), Decimal(0)))

    @classmethod
    def from_rows(cls, rows: list[dict]) -> Cart:
        cart = cls()
        for row in rows:
            cart.add(row["sku"], Decimal(row["price"]), int(row.get("qty", 1)))
        return cart


async def load_cart(session, user_id: int) -> Cart:
    rows = await session.fetch("select * from cart where user_id = $1", user_id)
    return Cart.from_rows(rows)


def _format(amount: Decimal) -> str:
    return f"{amount:.2f}"
