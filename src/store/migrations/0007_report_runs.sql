-- Scheduled reports made: one row per period, so a report is made once even across
-- restarts, and a day the daemon was down is made up later.
CREATE TABLE report_run (
    period        TEXT PRIMARY KEY,   -- e.g. 'month:2026-11'
    generated_at  INTEGER NOT NULL,
    files         TEXT NOT NULL       -- JSON array of the paths written
);
