-- Operator pages: staff log in with a password (argon2id PHC string; NULL: no password set,
-- the account logs in with an API token or not at all).
ALTER TABLE account ADD COLUMN password_hash TEXT;

-- A browser session: the cookie is 256 random bits; only its SHA-256 is stored. It stands for
-- an account (password login) or for the token it was opened with (token login), so
-- deactivating the account or revoking the token ends the session too.
CREATE TABLE web_session (
    id          INTEGER PRIMARY KEY,
    hash        BLOB NOT NULL UNIQUE,
    account_id  INTEGER REFERENCES account(id),
    token_id    INTEGER REFERENCES api_token(id),
    -- Sent back in every form; compared with what the form carries.
    csrf        TEXT NOT NULL,
    -- The language the pages are shown in: 'id' (Indonesian) or 'en'.
    lang        TEXT NOT NULL DEFAULT 'id' CHECK (lang IN ('id', 'en')),
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    ended_at    INTEGER,
    CHECK ((account_id IS NULL) <> (token_id IS NULL))
);
CREATE INDEX web_session_expires ON web_session (expires_at);
