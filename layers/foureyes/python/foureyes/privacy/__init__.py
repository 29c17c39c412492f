"""The privacy room: per-candidate data keys (envelope encryption under a KMS key), sealed personal fields,
erasure (a four-eyes proposal whose executor destroys the key and deletes what names the record) and access
requests (everything held about a record, opened). See README, "Personal data"."""
