"""The store on PostgreSQL: a database several desks and collectors share ([store] in
config.toml), instead of the TinyDB files in the data directory.

    store.postgres.connection  connecting: one connection, the pool, `webcare check`'s status
    store.postgres.schema      the tables, and the numbered steps (migrations) that create them

Needs the optional extra: `pip install 'webcare[postgresql]'` (psycopg 3 and its pool).
"""
