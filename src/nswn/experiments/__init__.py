"""experiments (see docs/design.md)."""
