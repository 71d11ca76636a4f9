"""The `duban` console script."""
