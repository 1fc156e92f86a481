def total(prices):
    result = 0
    for price in prices:
        result += price
    return result


def discount(amount, percent):
    if percent <= 0:
        return amount
    if percent >= 100:
        return 0
    return amount - amount * percent // 100
