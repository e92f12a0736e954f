"""Saved predictions: what a record is, the storage interface, and its SQLite and Firebase implementations."""
