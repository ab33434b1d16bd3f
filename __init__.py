"""mlledger: ML metadata, lineage, experiment tracking, gates and a feature store.

`import mlledger` gives the light client only; the server lives in `mlledger.service` and needs
the `server` extra.
"""

__version__ = "0.1.0"
