"""The dispatch room: the one guarded path by which anything reaches an ATS.

`dispatcher` (two approvals or a person's fact, kill switch, shadow mode, daily cap, receipt, parking),
`controls` (the switches: pause/unpause, shadow mode), `killswitch` (the alarm's side: pause and alert),
`facts` (what people entered, on their way to the dispatcher), `handover` (queue a proposal for its
system's dispatcher), `retry` (the nightly re-dispatch of parked writes), `agreement` (shadow mode measured
against what recruiters did themselves).
"""
