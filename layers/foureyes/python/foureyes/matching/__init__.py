"""The matching room: which records are the same person.

`normalize` (names, e-mails, phones, dates; pure), `score` (evidence, weights, decisions; pure), `batch`
(`foureyes reconcile`: a whole file at once), `index` (one changed record against the match-key index in
DynamoDB; turns scored pairs into proposals and keeps near-misses).
"""
