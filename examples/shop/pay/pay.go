// Package pay turns a total into what the customer is charged.
package pay

// Discount returns the total after a percentage discount, rounded down to a cent.
func Discount(total, percent int) int {
	if percent <= 0 {
		return total
	}
	if percent >= 100 {
		return 0
	}
	return total * (100 - percent) / 100
}

// Tax returns the tax on a total at a rate given in basis points.
func Tax(total, basisPoints int) int {
	return total * basisPoints / 10000
}
