import { type MigrationInterface, type QueryRunner } from 'typeorm';

/** The audit API's per-client history: events naming the client in data, or done by it. */
export class AuditIndexes1795710000002 implements MigrationInterface {
  name = 'AuditIndexes1795710000002';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE INDEX events_data_client_id_idx ON events ((data->>'clientId'), global_position)
       WHERE data ? 'clientId'`,
    );
    await queryRunner.query(
      `CREATE INDEX events_actor_idx ON events ((metadata->>'actor'), global_position)`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP INDEX events_actor_idx`);
    await queryRunner.query(`DROP INDEX events_data_client_id_idx`);
  }
}
