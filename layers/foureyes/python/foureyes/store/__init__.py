"""DynamoDB storage (pynamodb models and repositories). Conditional writes live here."""
