"""ragls review: code review of a change with repository context."""
