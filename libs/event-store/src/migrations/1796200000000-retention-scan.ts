import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Where the last `retention run` stopped looking for closed streams: the next run goes on from there
 * instead of reading the start of the log again, and comes back round to it once it reaches the end.
 * A hint only: without it a run starts at the first position and finds the same streams.
 */
export class RetentionScan1796200000000 implements MigrationInterface {
  name = 'RetentionScan1796200000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE retention_scan (
         name text PRIMARY KEY,
         after_position bigint NOT NULL CHECK (after_position >= 0),
         updated_at timestamptz NOT NULL
       )`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE retention_scan`);
  }
}
