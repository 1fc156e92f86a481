// Package cart keeps the items a customer is about to buy.
package cart

import "errors"

// Item is one line of a cart.
type Item struct {
	SKU      string
	Price    int // cents
	Quantity int
}

// Cart is a list of items.
type Cart struct {
	items []Item
}

// ErrQuantity is returned for a quantity below one.
var ErrQuantity = errors.New("quantity must be at least 1")

// Add puts an item in the cart, merging it with an item of the same SKU.
func (c *Cart) Add(item Item) error {
	if item.Quantity < 1 {
		return ErrQuantity
	}
	for i := range c.items {
		if c.items[i].SKU == item.SKU {
			c.items[i].Quantity += item.Quantity
			return nil
		}
	}
	c.items = append(c.items, item)
	return nil
}

// Remove takes every unit of a SKU out of the cart.
func (c *Cart) Remove(sku string) bool {
	for i := range c.items {
		if c.items[i].SKU == sku {
			c.items = append(c.items[:i], c.items[i+1:]...)
			return true
		}
	}
	return false
}

// Total is the sum of price times quantity, in cents.
func (c *Cart) Total() int {
	total := 0
	for _, item := range c.items {
		total += item.Price * item.Quantity
	}
	return total
}
