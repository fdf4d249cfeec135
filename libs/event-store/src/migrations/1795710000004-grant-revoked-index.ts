import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Introspection asks whether a user's grant was revoked (RFC 7662 §4, RFC 9700 §4.14.2) from the store,
 * not from the projection that follows it: a probe of this small index (only revoked grants' events)
 * instead of a read of the grant's whole stream, which grows with every refresh rotation.
 */
export class GrantRevokedIndex1795710000004 implements MigrationInterface {
  name = 'GrantRevokedIndex1795710000004';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE INDEX events_grant_revoked_idx ON events (stream_id) WHERE type = 'GrantRevoked'`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX events_grant_revoked_idx`);
  }
}
