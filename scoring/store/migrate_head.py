"""The newest migration's revision, known without loading Alembic: a store opened on a database already at it
skips the upgrade (``Store.init_schema``). A new migration in ``migrations/versions`` moves it (a test compares it
with Alembic's own head)."""

HEAD = "0010"
