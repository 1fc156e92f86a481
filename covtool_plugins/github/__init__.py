"""GitHub: the pull request's files through the REST API (and, later, its comment and status)."""
