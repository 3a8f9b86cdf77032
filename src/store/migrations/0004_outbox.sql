-- The notification outbox: emails and webhook events, queued in the same transaction as the
-- change that caused them and delivered by the notify task. Rows leave 'pending' once sent,
-- given up ('failed'), or found to have nowhere to go ('disabled': no relay or webhook
-- configured; 'filtered': the webhook does not take this event); finished rows are pruned
-- after the retention period.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    kind            TEXT NOT NULL CHECK (kind IN ('email', 'webhook')),
    event           TEXT,           -- webhook: the event name, e.g. 'alarm.raised'
    recipients      TEXT,           -- email: JSON array of addresses
    subject         TEXT,           -- email
    body            TEXT NOT NULL,  -- email: the text; webhook: the JSON payload
    state           TEXT NOT NULL
                    CHECK (state IN ('pending', 'sent', 'failed', 'disabled', 'filtered')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT,           -- never holds a secret
    created_at      INTEGER NOT NULL,
    next_attempt_at INTEGER,        -- pending rows only
    last_attempt_at INTEGER,
    sent_at         INTEGER,
    finished_at     INTEGER,        -- when it left 'pending'
    CHECK ((state = 'pending') = (next_attempt_at IS NOT NULL))
);
CREATE INDEX outbox_due ON outbox(next_attempt_at) WHERE state = 'pending';
CREATE INDEX outbox_finished ON outbox(finished_at) WHERE state != 'pending';
