import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Retention by archiving (docs/retention.md). `event_archives` records every archive written (its
 * file's SHA-256, when its deletes finished) and `event_archive_events` each event it holds (position
 * and hash). The append-only trigger now lets one kind of DELETE through: in a transaction whose
 * local setting `retention.archive_id` names an archive, of a row that archive lists with the same
 * hash. Every other DELETE, every UPDATE and TRUNCATE stay refused. The partial index finds streams
 * by the position of their first event (the archiver's candidates).
 */
export class EventArchives1796100000000 implements MigrationInterface {
  name = 'EventArchives1796100000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE event_archives (
        archive_id text PRIMARY KEY,
        created_at timestamptz NOT NULL,
        file_name text NOT NULL,
        sha256 text NOT NULL,
        event_count integer NOT NULL,
        first_position bigint NOT NULL,
        last_position bigint NOT NULL,
        completed_at timestamptz
      )`);
    await queryRunner.query(`
      CREATE TABLE event_archive_events (
        archive_id text NOT NULL REFERENCES event_archives (archive_id),
        global_position bigint NOT NULL,
        hash bytea,
        PRIMARY KEY (archive_id, global_position)
      )`);
    await queryRunner.query(
      `CREATE INDEX event_archive_events_position_idx ON event_archive_events (global_position)`,
    );
    await queryRunner.query(
      `CREATE INDEX events_stream_start_idx ON events (global_position) WHERE stream_version = 1`,
    );
    await queryRunner.query(`
      CREATE OR REPLACE FUNCTION events_are_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        archive text := nullif(current_setting('retention.archive_id', true), '');
      BEGIN
        IF TG_OP = 'DELETE' AND archive IS NOT NULL AND EXISTS (
          SELECT 1 FROM event_archive_events a
          WHERE a.archive_id = archive AND a.global_position = OLD.global_position
            AND a.hash IS NOT DISTINCT FROM OLD.hash) THEN
          RETURN OLD;
        END IF;
        RAISE EXCEPTION 'events are append-only: % refused', TG_OP
          USING ERRCODE = 'insufficient_privilege';
      END
      $$`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE OR REPLACE FUNCTION events_are_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'events are append-only: % refused', TG_OP
          USING ERRCODE = 'insufficient_privilege';
      END
      $$`);
    await queryRunner.query(`DROP INDEX events_stream_start_idx`);
    await queryRunner.query(`DROP TABLE event_archive_events`);
    await queryRunner.query(`DROP TABLE event_archives`);
  }
}
