package cart

import "testing"

func TestAddMergesSameSKU(t *testing.T) {
	var c Cart
	if err := c.Add(Item{SKU: "tea", Price: 450, Quantity: 1}); err != nil {
		t.Fatal(err)
	}
	if err := c.Add(Item{SKU: "tea", Price: 450, Quantity: 2}); err != nil {
		t.Fatal(err)
	}
	if got := c.Total(); got != 1350 {
		t.Fatalf("Total() = %d, want 1350", got)
	}
}

func TestAddRejectsZeroQuantity(t *testing.T) {
	var c Cart
	if err := c.Add(Item{SKU: "tea", Quantity: 0}); err != ErrQuantity {
		t.Fatalf("Add() = %v, want ErrQuantity", err)
	}
}
