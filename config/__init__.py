"""Settings, the campaign file schema and its loader, the clock and calendars."""
