"""The store room: every table's pynamodb model (`models`) and the repositories the other rooms write and read
through (`proposals`, `dispatches`, `counters`, `audit`, `candidates`, `match_index`, `checkpoints`, ...), with
one idiom for conditional writes (`conditional`). `bound(` is used here and nowhere else; the rooms depend on
the repositories' Protocols, so unit tests hand in in-memory twins.
"""
