"""Prefect tasks: thin decorators over plain, typed functions that tests call directly."""
