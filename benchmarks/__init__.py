"""ember vs torch benchmarks: `python -m benchmarks` (see README.md)."""
