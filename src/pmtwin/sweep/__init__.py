"""Parameter sweeps: many scenarios (axes x seeds) run on local processes or Dask (docs/sweeps.md)."""
