"""The dispatch room: the one guarded path by which anything reaches an ATS or the HRIS.

`dispatcher` (two approvals or a person's fact, kill switch and shadow mode read uncached right before the
send, daily cap, receipt, parking, settling an attempt that stopped mid-write from the ATS's records),
`controls` (the switches: pause/unpause, shadow mode), `killswitch` (the alarm's side: pause and alert),
`facts` (what people entered, on their way to the dispatcher), `handover` (queue a proposal for its
system's dispatcher), `retry` (the re-dispatch of parked and stranded writes, nightly and after every
unpause), `agreement` (shadow mode measured against what recruiters did themselves).
"""
