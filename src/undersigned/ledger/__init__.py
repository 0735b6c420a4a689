"""Transparency-log primitives: Merkle trees, tiles, checkpoints and signed notes."""
