-- Procedure 4 (seeds 001 and 004): visits to the facility, the desk's pool of visitor
-- badges, and the equipment each visit brought in.

-- Physical visitor cards kept at the desk. A card opens doors only while bound to one visit,
-- through a credential with source 'visit:N'; a card reported lost stays blocked.
CREATE TABLE visitor_badge (
    id            INTEGER PRIMARY KEY,
    badge_number  TEXT NOT NULL UNIQUE,   -- printed on the card (No. Badge)
    technology    TEXT NOT NULL,
    uid           TEXT NOT NULL,          -- uppercase hex, no separators
    status        TEXT NOT NULL CHECK (status IN ('available', 'issued', 'lost', 'retired')),
    note          TEXT,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    UNIQUE (technology, uid)
);

-- Formulir Pencatatan Penggunaan Fasilitas: one row per visit, from the desk's check-in to
-- the badge exchanged back for the identity document.
CREATE TABLE visit (
    id                    INTEGER PRIMARY KEY,
    status                TEXT NOT NULL CHECK (status IN
                              ('waiting_approval', 'approved', 'denied', 'active', 'closed')),
    nama                  TEXT NOT NULL,
    instansi              TEXT,
    alamat                TEXT,
    jenis_identitas       TEXT NOT NULL CHECK (jenis_identitas IN ('ktp', 'sim', 'paspor', 'other')),
    jenis_identitas_lain  TEXT,                 -- what an 'other' document is
    no_identitas          TEXT NOT NULL,
    tujuan                TEXT NOT NULL,
    host                  TEXT NOT NULL,        -- whom the visitor comes to see
    escort_id             INTEGER NOT NULL REFERENCES person(id),
    doors                 TEXT NOT NULL,        -- JSON array of the door names the badge opens
    id_deposited          INTEGER NOT NULL,     -- the identity document is held at the desk
    id_returned_at        INTEGER,
    ttd_name              TEXT,                 -- typed signature, given with consent
    ttd_image             BLOB,                 -- or an uploaded image of it
    ttd_mime              TEXT,
    approver_role         TEXT NOT NULL,        -- as configured at check-in
    approve_within_hours  INTEGER NOT NULL,
    decided_at            INTEGER,
    decision_note         TEXT,
    person_id             INTEGER REFERENCES person(id),  -- the visitor as a card holder
    badge_id              INTEGER REFERENCES visitor_badge(id),
    credential_id         INTEGER REFERENCES credential(id),
    right_id              INTEGER REFERENCES access_right(id),
    badge_outcome         TEXT CHECK (badge_outcome IN ('returned', 'lost')),
    checked_in_at         INTEGER NOT NULL,
    badge_issued_at       INTEGER,
    checked_out_at        INTEGER,
    created_by            INTEGER REFERENCES account(id),
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL,
    CHECK (ttd_name IS NOT NULL OR ttd_image IS NOT NULL)
);
CREATE INDEX visit_by_time ON visit(checked_in_at);
CREATE INDEX visit_open ON visit(status) WHERE status IN ('waiting_approval', 'approved', 'active');
CREATE UNIQUE INDEX visit_by_credential ON visit(credential_id) WHERE credential_id IS NOT NULL;

-- Fasilitas: equipment brought in (jenis, no. seri), several rows per visit.
CREATE TABLE visit_equipment (
    id        INTEGER PRIMARY KEY,
    visit_id  INTEGER NOT NULL REFERENCES visit(id),
    jenis     TEXT NOT NULL,
    no_seri   TEXT
);
CREATE INDEX visit_equipment_by_visit ON visit_equipment(visit_id, id);

-- Every step of every visit: who, in which role, when, with what note.
CREATE TABLE visit_history (
    id          INTEGER PRIMARY KEY,
    visit_id    INTEGER NOT NULL REFERENCES visit(id),
    step        TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    actor       TEXT NOT NULL,
    role        TEXT NOT NULL,
    account_id  INTEGER,
    token_id    INTEGER,
    note        TEXT,
    at          INTEGER NOT NULL
);
CREATE INDEX visit_history_by_visit ON visit_history(visit_id, id);
