def cost(kilos):
    if kilos > 20:
        return 50
    return 5 + kilos
