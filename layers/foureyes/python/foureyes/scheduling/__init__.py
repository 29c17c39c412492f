"""Interview scheduling: pure slot rules (`slots`), calendar files (`ics`), storage with conditional writes
(`store`), the flows (`service`), calendar and HRIS clients (`calendar`, `hris`) and the pages (`pages`).

The system only follows a recruiter's stage change: it offers slots, holds and books what a candidate
chooses, and syncs what people decide. Rankings and summaries are suggestions, never decisions.
"""
