"""The ingest room: candidate records coming in.

`webhooks` (signatures, replay window, payload models), `receive` (verify, parse, store once per delivery),
`pull` (scheduled pulls resumable from checkpoints), `candidates` (storing a record version once, reading
stream images).
"""
