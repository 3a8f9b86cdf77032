-- Hash chains over the register and the audit log (see src/store/chain.rs for the
-- encoding). Rows that exist at upgrade time are chained by the migration step itself, in
-- id order from a genesis of 32 zero bytes, as they stand then.
ALTER TABLE register ADD COLUMN prev_hash BLOB;
ALTER TABLE register ADD COLUMN hash BLOB;
ALTER TABLE audit ADD COLUMN prev_hash BLOB;
ALTER TABLE audit ADD COLUMN hash BLOB;
