"""Array backends: NumPy (CPU, the reference), CuPy (GPU), numba kernels (optional, CPU)."""
