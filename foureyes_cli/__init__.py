"""The `foureyes` command: offline reconcile, the local cloud, and ops against a stack."""
