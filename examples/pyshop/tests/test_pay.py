from shop.pay import charge


def test_charge():
    assert charge(5) == 5
