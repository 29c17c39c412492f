"""Test support: in-memory twins of the store's repositories, of the AWS side effects and of the ATS
connection stores."""
