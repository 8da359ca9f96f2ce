"""analysis (see docs/design.md)."""
