-- Lawang schema version 1. Times are INTEGER milliseconds since the Unix epoch, UTC.

CREATE TABLE person (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    id_number   TEXT,             -- NIP, or the number of an identity document
    unit        TEXT,             -- unit kerja / instansi
    contact     TEXT,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

CREATE TABLE door (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_at  INTEGER NOT NULL
);

CREATE TABLE reader (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    door_id     INTEGER NOT NULL REFERENCES door(id),
    direction   TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    kind        TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);

CREATE TABLE credential (
    id            INTEGER PRIMARY KEY,
    person_id     INTEGER NOT NULL REFERENCES person(id),
    technology    TEXT NOT NULL,
    uid           TEXT NOT NULL,  -- uppercase hex, no separators
    badge_number  TEXT,
    status        TEXT NOT NULL CHECK (status IN ('active', 'suspended', 'lost', 'revoked')),
    status_reason TEXT,
    source        TEXT NOT NULL,  -- 'direct' for the admin path; later 'request:N', 'visit:N'
    issued_at     INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
-- A card is bound to at most one holder until it is revoked; then it may be issued again.
CREATE UNIQUE INDEX credential_live ON credential(technology, uid) WHERE status != 'revoked';
CREATE INDEX credential_by_uid ON credential(technology, uid);
CREATE INDEX credential_by_person ON credential(person_id);

CREATE TABLE access_right (
    id             INTEGER PRIMARY KEY,
    person_id      INTEGER NOT NULL REFERENCES person(id),
    valid_from     INTEGER NOT NULL,
    valid_until    INTEGER NOT NULL,
    schedule       TEXT,          -- JSON weekly schedule; NULL means any time
    source         TEXT NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('active', 'removed')),
    removed_reason TEXT,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    CHECK (valid_until > valid_from)
);
CREATE INDEX access_right_by_person ON access_right(person_id);

CREATE TABLE access_right_door (
    right_id  INTEGER NOT NULL REFERENCES access_right(id),
    door_id   INTEGER NOT NULL REFERENCES door(id),
    PRIMARY KEY (right_id, door_id)
) WITHOUT ROWID;

-- The facility register: every tap, granted or refused. Append-only; no foreign keys so
-- that nothing done to the access list can ever remove or block a register line.
CREATE TABLE register (
    id            INTEGER PRIMARY KEY,
    at            INTEGER NOT NULL,
    event         TEXT NOT NULL,  -- 'tap'
    door_id       INTEGER NOT NULL,
    reader_id     INTEGER,
    direction     TEXT,
    credential    TEXT,           -- as presented: 'technology:HEX'
    credential_id INTEGER,
    person_id     INTEGER,
    granted       INTEGER NOT NULL,
    reason        TEXT NOT NULL
);
CREATE INDEX register_by_time ON register(at);
CREATE INDEX register_by_person ON register(person_id, at) WHERE person_id IS NOT NULL;

-- Every admin action: who, in which role, what, when.
CREATE TABLE audit (
    id         INTEGER PRIMARY KEY,
    at         INTEGER NOT NULL,
    token_id   INTEGER,
    actor      TEXT NOT NULL,
    role       TEXT NOT NULL,
    action     TEXT NOT NULL,
    target     TEXT,
    detail     TEXT               -- JSON
);
CREATE INDEX audit_by_time ON audit(at);

CREATE TABLE api_token (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    role        TEXT NOT NULL,
    hash        BLOB NOT NULL UNIQUE,  -- SHA-256 of the token; the token itself is never stored
    created_at  INTEGER NOT NULL,
    revoked_at  INTEGER
);
