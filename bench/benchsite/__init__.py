"""A site for benchmarks only: the product's settings and URLs plus two reference views."""
