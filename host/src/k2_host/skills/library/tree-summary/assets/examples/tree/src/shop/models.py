"""Data models."""

from dataclasses import dataclass, field


@dataclass
class Item:
    sku: str
    price_cents: int
    qty: int = 1


@dataclass
class Cart:
    items: list[Item] = field(default_factory=list)

    def total_cents(self) -> int:
        return sum(i.price_cents * i.qty for i in self.items)
