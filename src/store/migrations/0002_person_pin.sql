-- Card + PIN doors: the holder's PIN as an argon2 PHC string; NULL means no PIN set.
ALTER TABLE person ADD COLUMN pin_hash TEXT;
