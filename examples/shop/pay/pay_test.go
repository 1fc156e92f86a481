package pay

import "testing"

func TestDiscount(t *testing.T) {
	cases := []struct{ total, percent, want int }{
		{1000, 0, 1000},
		{1000, 25, 750},
	}
	for _, c := range cases {
		if got := Discount(c.total, c.percent); got != c.want {
			t.Errorf("Discount(%d, %d) = %d, want %d", c.total, c.percent, got, c.want)
		}
	}
}
