"""Migration operations for what only PostgreSQL supports; embedded mode (SQLite) goes without."""

from django.db.migrations import AddIndex


class AddIndexOnPostgreSQL(AddIndex):
    """AddIndex for an index SQLite cannot build (GIN, trigram). The model state is unchanged."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)
