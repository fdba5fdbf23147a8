"""The activity and group directory kept in memory, and the nearby search over it."""
