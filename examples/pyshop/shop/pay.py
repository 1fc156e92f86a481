def charge(amount):
    if amount < 0:
        return 0
    return amount
