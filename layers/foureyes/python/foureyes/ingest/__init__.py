"""The ingest room: candidate records coming in.

`webhooks` (signatures, replay window, payload models), `receive` (verify, parse, store once per delivery),
`pull` (scheduled pulls resumable from checkpoints), `candidates` (storing a record only when its version moves
forward, reading stream images, the ATS as the actor of its events and `changed_by` as its claim).
"""
