"""What a change touched: git as the source of changed files, and what to leave out."""
