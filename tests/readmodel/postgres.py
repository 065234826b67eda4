"""The tests' throwaway PostgreSQL cluster: it lives in ops/postgres.py, where the benchmarks start it too."""

from ops.postgres import (  # noqa: F401  (re-exported for the tests' imports)
    BIN_GLOB,
    HOW_TO_INSTALL,
    PostgresCluster,
    PostgresUnavailable,
    find_bin_dir,
    free_port,
    running_cluster,
)
