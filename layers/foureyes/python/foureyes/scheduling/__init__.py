"""Interview scheduling, one module per concern.

Pure rules: `slots` (requests, slot generation, local times, suggestions), `locks` (lock keys), `ics`
(calendar files), `notes` (note summaries). Configuration and dependencies: `settings`, `deps` (and the
`repository` protocol that `foureyes.store.scheduling` implements; `calendar` and `hris` clients).
The flows: `stage` (a stage change -> a request and a link), `booking` (view, hold, confirm, reschedule;
`views`, `invites`, `panel_calendar`, `links` serve it), `cancellation` (cancel, expire holds), `nudges`,
`feedback`, `outcome`. The pages: `pages`.

The system only follows a recruiter's stage change: it offers slots, holds and books what a candidate
chooses, and syncs what people decide. Rankings and summaries are suggestions, never decisions.
"""
