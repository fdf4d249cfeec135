import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * The audit API's grant and user histories: events naming a grant (`data.grantId`: its stream and
 * the access tokens issued from it) and events naming a resource owner (`data.sub`).
 */
export class AuditGrantUserIndexes1795710000003 implements MigrationInterface {
  name = 'AuditGrantUserIndexes1795710000003';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE INDEX events_data_grant_id_idx ON events ((data->>'grantId'), global_position)
       WHERE data ? 'grantId'`,
    );
    await queryRunner.query(
      `CREATE INDEX events_data_sub_idx ON events ((data->>'sub'), global_position) WHERE data ? 'sub'`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX events_data_sub_idx`);
    await queryRunner.query(`DROP INDEX events_data_grant_id_idx`);
  }
}
