from shop.ship import cost


def test_cost():
    assert cost(1) == 6
