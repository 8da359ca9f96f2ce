"""serve (see docs/design.md)."""
