"""Settings, the clock, the campaign file: its schema, its loader and its channel rules."""
