"""The ``sanctuary-bot`` command line, the console demo and the bundled sample data."""
