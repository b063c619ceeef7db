"""Which store a process uses: the TinyDB files in [desk] data_dir, or the PostgreSQL database
[store] names. The one place that chooses; webcare/cli.py (the composition root) asks here."""

from __future__ import annotations

from typing import TYPE_CHECKING

from store.jsonstorage import StoreError

if TYPE_CHECKING:
    from webcare.config import Config
    from webcare.store_port import MentionStore

def open_store(config: Config, role: str) -> MentionStore:
    """A handle on the configured store for a "desk" or a "collector" (the role names its
    database connections). On PostgreSQL the schema is brought up to date first."""
    if config.store is None:
        from store.store import Store

        return Store(config.data_dir)
    try:
        from store.postgres.mentions import open_postgres
    except ImportError as exc:  # the optional extra is not installed
        raise StoreError(
            f"[store]: {exc.name or exc} is not installed; the PostgreSQL store needs pip install 'webcare[postgresql]'"
        ) from None
    return open_postgres(config.store, role)
