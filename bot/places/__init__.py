"""Places: UK towns and postcode districts, reading what people type, the place cache."""
