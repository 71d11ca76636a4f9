"""Prefect flows. A flow only orders tasks: no SQL and no Apprise calls here."""
