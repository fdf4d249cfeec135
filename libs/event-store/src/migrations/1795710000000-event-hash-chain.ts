import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * The tamper-evident log (docs/events.md "Hash chain"): every event appended from now on carries
 * `prev_hash` (the hash of the event before it in global order, 32 zero bytes for the first hashed
 * event) and `hash` = SHA-256(prev_hash ‖ canonical encoding of the event), computed by the store
 * inside the append transaction under the append lock. Events recorded before this migration keep
 * NULL in both columns and are not covered: the chain starts at the first hashed event (rewriting
 * them would need UPDATE, which the log refuses).
 */
export class EventHashChain1795710000000 implements MigrationInterface {
  name = 'EventHashChain1795710000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE events ADD COLUMN prev_hash bytea, ADD COLUMN hash bytea`);
    await queryRunner.query(`
      ALTER TABLE events ADD CONSTRAINT events_hash_shape CHECK (
        (hash IS NULL AND prev_hash IS NULL) OR (octet_length(hash) = 32 AND octet_length(prev_hash) = 32))
        NOT VALID`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE events DROP CONSTRAINT events_hash_shape`);
    await queryRunner.query(`ALTER TABLE events DROP COLUMN hash, DROP COLUMN prev_hash`);
  }
}
