"""Where everything is kept: TinyDB files in the data directory.

Writes are atomic (write a temporary file, fsync, rename over the old one) and locked (one
cross-process lock per data directory), so a collector and several desks can share it.
"""

from store.jsonstorage import StoreError
from store.store import Store, StoreChanges

__all__ = ["Store", "StoreChanges", "StoreError"]
