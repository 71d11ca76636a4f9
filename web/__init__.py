"""The HTTP app: the department's link page and the coordinator's dashboard."""
