import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * The event store's tables (ARCHITECTURE.md "Events are the source of truth"):
 * - `events`: append-only. Unique (stream_id, stream_version) decides optimistic concurrency
 *   (STYLE.md habit 4); a trigger refuses UPDATE, DELETE and TRUNCATE, so the log is never rewritten.
 * - `checkpoints`: one row per consumer (projection, relay) holding the last global position it
 *   processed (STYLE.md habit 12).
 * - `projection_rows`: every projection's rows, keyed by (projection, key); `position` is the global
 *   position of the last event folded into the row.
 */
export class Events1795625234752 implements MigrationInterface {
  name = 'Events1795625234752';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE events (
        global_position bigserial PRIMARY KEY,
        event_id uuid NOT NULL,
        stream_id text NOT NULL,
        stream_version integer NOT NULL CHECK (stream_version >= 1),
        type text NOT NULL,
        schema_version integer NOT NULL DEFAULT 1,
        data jsonb NOT NULL,
        metadata jsonb NOT NULL DEFAULT '{}',
        recorded_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT events_event_id_key UNIQUE (event_id),
        CONSTRAINT events_stream_version_key UNIQUE (stream_id, stream_version)
      )`);
    await queryRunner.query(`CREATE INDEX events_type_idx ON events (type)`);
    await queryRunner.query(`CREATE INDEX events_recorded_at_idx ON events (recorded_at)`);
    await queryRunner.query(`
      CREATE FUNCTION events_are_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'events are append-only: % refused', TG_OP
          USING ERRCODE = 'insufficient_privilege';
      END
      $$`);
    await queryRunner.query(`
      CREATE TRIGGER events_no_update_delete BEFORE UPDATE OR DELETE ON events
      FOR EACH ROW EXECUTE FUNCTION events_are_append_only()`);
    await queryRunner.query(`
      CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
      FOR EACH STATEMENT EXECUTE FUNCTION events_are_append_only()`);
    await queryRunner.query(`
      CREATE TABLE checkpoints (
        name text PRIMARY KEY,
        position bigint NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`
      CREATE TABLE projection_rows (
        projection text NOT NULL,
        key text NOT NULL,
        doc jsonb NOT NULL,
        position bigint NOT NULL,
        PRIMARY KEY (projection, key)
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE projection_rows`);
    await queryRunner.query(`DROP TABLE checkpoints`);
    await queryRunner.query(`DROP TABLE events`);
    await queryRunner.query(`DROP FUNCTION events_are_append_only()`);
  }
}
