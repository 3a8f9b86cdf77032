-- The SOP workflow: staff accounts, access requests (procedure 1), removals (procedure 3),
-- review campaigns (procedure 2) and logical rights (seeds 000 and 003).

-- Staff who act in a workflow and are told what waits for them.
CREATE TABLE account (
    id          INTEGER PRIMARY KEY,
    username    TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    role        TEXT NOT NULL,
    email       TEXT,
    nip         TEXT,
    jabatan     TEXT,
    unit        TEXT,
    active      INTEGER NOT NULL DEFAULT 1,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

-- A token may stand for an account; its role is then the account's.
ALTER TABLE api_token ADD COLUMN account_id INTEGER REFERENCES account(id);

-- Rights from the workflow name the request they came from and who answers for them.
ALTER TABLE access_right ADD COLUMN request_id INTEGER;
ALTER TABLE access_right ADD COLUMN responsible_id INTEGER REFERENCES account(id);

-- Permintaan akses: one row per request; `chain` is the procedure as configured when the
-- request was made (JSON), so a later configuration change never strands a request.
CREATE TABLE request (
    id              INTEGER PRIMARY KEY,
    kind            TEXT NOT NULL CHECK (kind IN ('server_room', 'control_panel', 'remote_access')),
    status          TEXT NOT NULL CHECK (status IN ('open', 'rejected', 'completed', 'withdrawn')),
    chain           TEXT NOT NULL,
    step_index      INTEGER,          -- the step waiting, while open
    step_since      INTEGER,          -- when it started waiting, for the time standard
    applicant_name  TEXT NOT NULL,
    applicant_nip   TEXT,
    unit_kerja      TEXT,
    jabatan         TEXT,
    instansi        TEXT,
    email           TEXT,
    purpose         TEXT NOT NULL,
    nomor_surat     TEXT,
    doors           TEXT,             -- JSON array of door names (server_room)
    hak_akses       TEXT,             -- what a logical account may do
    valid_from      INTEGER NOT NULL,
    valid_until     INTEGER NOT NULL,
    schedule        TEXT,
    person_id       INTEGER REFERENCES person(id),
    atasan_id       INTEGER REFERENCES account(id),
    responsible_id  INTEGER REFERENCES account(id),
    created_by      INTEGER REFERENCES account(id),
    right_id        INTEGER REFERENCES access_right(id),
    credential_id   INTEGER REFERENCES credential(id),
    logical_id      INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    CHECK (valid_until > valid_from)
);
CREATE INDEX request_open ON request(status, step_index);

-- Permintaan penghapusan akses (procedure 3).
CREATE TABLE removal (
    id              INTEGER PRIMARY KEY,
    status          TEXT NOT NULL CHECK (status IN ('open', 'rejected', 'completed', 'withdrawn')),
    chain           TEXT NOT NULL,
    step_index      INTEGER,
    step_since      INTEGER,
    right_kind      TEXT NOT NULL CHECK (right_kind IN ('door', 'logical')),
    right_id        INTEGER NOT NULL,
    reason          TEXT NOT NULL,
    source          TEXT NOT NULL,    -- 'manual' or 'review:N'
    created_by      INTEGER REFERENCES account(id),
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX removal_open ON removal(status);

-- Every step of every request and removal: who, in which role, when, with what note.
CREATE TABLE workflow_history (
    id          INTEGER PRIMARY KEY,
    case_type   TEXT NOT NULL CHECK (case_type IN ('request', 'removal')),
    case_id     INTEGER NOT NULL,
    step        TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    actor       TEXT NOT NULL,
    role        TEXT NOT NULL,
    account_id  INTEGER,
    token_id    INTEGER,
    note        TEXT,
    at          INTEGER NOT NULL
);
CREATE INDEX workflow_history_by_case ON workflow_history(case_type, case_id, id);

-- Accounts in other systems (remote access, website control panel): Lawang records them
-- and reminds, it does not create them.
CREATE TABLE logical_right (
    id              INTEGER PRIMARY KEY,
    kind            TEXT NOT NULL CHECK (kind IN ('control_panel', 'remote_access')),
    holder_name     TEXT NOT NULL,
    instansi        TEXT,
    username        TEXT NOT NULL,
    hak_akses       TEXT,
    tujuan          TEXT NOT NULL,
    planned_from    INTEGER NOT NULL,
    planned_until   INTEGER NOT NULL,
    granted_at      INTEGER NOT NULL,
    closed_at       INTEGER,
    closed_reason   TEXT,
    status          TEXT NOT NULL CHECK (status IN ('open', 'closed')),
    request_id      INTEGER REFERENCES request(id),
    responsible_id  INTEGER REFERENCES account(id),
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);

-- Review campaigns (procedure 2): the access list frozen at the start, one item per right.
CREATE TABLE review (
    id                  INTEGER PRIMARY KEY,
    title               TEXT NOT NULL,
    status              TEXT NOT NULL CHECK (status IN ('open', 'closed')),
    default_undecided   TEXT NOT NULL CHECK (default_undecided IN ('keep', 'remove')),
    started_at          INTEGER NOT NULL,
    deadline            INTEGER NOT NULL,
    closed_at           INTEGER,
    period_key          TEXT UNIQUE,  -- e.g. '2026-Q4' for a scheduled campaign
    started_by          TEXT NOT NULL,
    created_at          INTEGER NOT NULL
);

CREATE TABLE review_item (
    id              INTEGER PRIMARY KEY,
    review_id       INTEGER NOT NULL REFERENCES review(id),
    right_kind      TEXT NOT NULL CHECK (right_kind IN ('door', 'logical')),
    right_id        INTEGER NOT NULL,
    holder_name     TEXT NOT NULL,
    summary         TEXT NOT NULL,    -- JSON: the right as it was when the campaign froze it
    responsible_id  INTEGER REFERENCES account(id),
    decision        TEXT CHECK (decision IN ('valid', 'not_valid')),
    comment         TEXT,
    decided_at      INTEGER,
    decided_by      TEXT,
    outcome         TEXT CHECK (outcome IN ('kept', 'removed')),
    outcome_note    TEXT,
    UNIQUE (review_id, right_kind, right_id)
);

-- When a waiting step or review item was last reminded, so a reminder goes out once per
-- interval and not on every scheduler tick.
CREATE TABLE reminder (
    subject     TEXT PRIMARY KEY,     -- e.g. 'request:5:dispose', 'review_item:9'
    last_at     INTEGER NOT NULL
) WITHOUT ROWID;
