import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Bounded read models: a projection row may carry the instant it expires (Projection.expiresAt);
 * the ProjectionRunner deletes expired rows on every pass. The index serves that delete.
 */
export class ProjectionExpiry1795710000001 implements MigrationInterface {
  name = 'ProjectionExpiry1795710000001';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE projection_rows ADD COLUMN expires_at timestamptz`);
    await queryRunner.query(
      `CREATE INDEX projection_rows_expiry_idx ON projection_rows (projection, expires_at)
       WHERE expires_at IS NOT NULL`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX projection_rows_expiry_idx`);
    await queryRunner.query(`ALTER TABLE projection_rows DROP COLUMN expires_at`);
  }
}
