"""Test support shared by unit tests: in-memory twins of the store's repositories and of the AWS side effects."""
