"""The engine benchmark: batching on against off, on full-size random-weight models (see README)."""
