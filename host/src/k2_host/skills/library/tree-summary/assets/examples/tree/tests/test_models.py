from shop.models import Cart, Item


def test_total():
    cart = Cart([Item("A", 250, 2), Item("B", 100)])
    assert cart.total_cents() == 600
