"""The results store: DuckDB tables written one run per transaction."""
