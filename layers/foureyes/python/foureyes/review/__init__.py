"""The review room: proposals and the four eyes that decide them.

`lifecycle` (the one owner of proposal statuses and transitions), `proposals` (store one, start its
workflow), `people` (the directory) and `rules` (standing rules: default values only), `decide`
(assignment, e-mailed links, viewing, the conditional decision write), `page` (the review page), `rollback`
(a rollback is itself a proposal), `queue` (open proposals for ops), `resume` (a decision reaching its execution)
and `sweep` (nothing stranded: no review without a running execution, no decision unheard).
"""
