"""The simulation engine: struct-of-arrays state, ordered mechanisms, random streams.

``core`` imports NumPy and the standard library only. It knows nothing of files,
YAML, pydantic, pandas or the web; the layers above translate to and from it.
"""
