"""A campaign file: its schema, reading it with the line of each value, its deadline and its
channels."""
