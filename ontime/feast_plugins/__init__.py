"""Feast plugins that are part of the kernel: infrastructure every room gets through Feast.

``asof_store.AsofDuckDBOfflineStore`` is Feast's DuckDB offline store with a faster
point-in-time join (DuckDB ASOF joins instead of an inner join plus a window over every
candidate row). A ``feature_store.yaml`` names it by class path::

    offline_store:
      type: ontime.feast_plugins.asof_store.AsofDuckDBOfflineStore

Nothing is imported here, so naming the package costs nothing until Feast loads the store.
"""
