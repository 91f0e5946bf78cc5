"""Facts about the frameworks, as data."""
