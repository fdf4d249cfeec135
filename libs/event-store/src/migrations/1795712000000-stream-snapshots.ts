import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Snapshots of long streams (a refresh-token family rotated many times, a user's logins): a read
 * folds the snapshot and the events after it, never the whole stream. A snapshot is derived from
 * the events and never replaces them; `audit verify` folds each snapshotted stream again and
 * compares. The index answers "was this refresh token ever issued in its grant" without reading the
 * grant's stream (RFC 9700 §4.14.2 reuse detection).
 */
export class StreamSnapshots1795712000000 implements MigrationInterface {
  name = 'StreamSnapshots1795712000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE stream_snapshots (
         stream_id text PRIMARY KEY,
         schema text NOT NULL,
         version integer NOT NULL CHECK (version > 0),
         state jsonb NOT NULL,
         saved_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
    await queryRunner.query(
      `CREATE INDEX events_grant_token_hash_idx ON events (stream_id, (data->>'tokenHash'))
       WHERE type IN ('RefreshTokenIssued', 'RefreshTokenRotated')`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX events_grant_token_hash_idx`);
    await queryRunner.query(`DROP TABLE stream_snapshots`);
  }
}
