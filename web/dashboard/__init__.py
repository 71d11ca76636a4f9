"""The coordinator's dashboard: the campaigns (`campaigns`), a campaign's list (`campaign`),
one unit and the actions on it (`unit`), the list as CSV (`export`), and the wording they
share (`rows`). Every route requires a signed-in coordinator; every POST also carries the
session's CSRF token."""
