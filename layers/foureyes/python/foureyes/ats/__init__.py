"""The ATS room: everything Foureyes knows about each applicant-tracking system, behind one Protocol.

- `adapter.py`: the `AtsAdapter` Protocol. An adapter owns its system's record mapping
  (`to_candidate`), the record's version and tag/link fields, the calls Foureyes writes (tag a
  duplicate, soft-merge, update a status, add a note) and how each step is undone, its push webhooks
  (signature header and secret) or the lack of them, its pull strategy, and how its client is built
  from the connection settings.
- `registry.py`: `SYSTEMS` (the one list of systems) and `adapter_for(system)`.
- `calls.py`: the system-agnostic frame of a write: `Call`, `call_for`, `execute` and its `Receipt`
  (the records as they were and the inverse call).
- `connections.py`: `client_for(system)`, the client built from the system's connection secret.
- `<system>/adapter.py` (pure: no HTTP) and `<system>/client.py` (the transport, imported only when
  a client is built), one package per system; `_fields.py` is their shared field helpers (HTTP sessions
  and rate limiting are in `foureyes.outbound`, shared with the calendar and HRIS clients).

Nothing outside this room names a system. Adding a fourth ATS is: one package here (its adapter
and client, plus one line in `registry.py`), its fake in `foureyes_local/fakes/`, and its
resources in the template (connection secret, pull/dispatch functions, webhook secret if it pushes).
"""
