import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Per-person data keys (libs/personal-data), owned by the consent service: each wrapped under
 * PERSONAL_DATA_KEY. Erasing a person sets `wrapped` to NULL and keeps the row (GDPR Art. 17 by
 * crypto-shredding; docs/privacy-and-retention.md). Unlike `events`, this table is meant to change.
 */
export class PersonalDataKeys1796000000000 implements MigrationInterface {
  name = 'PersonalDataKeys1796000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE personal_data_keys (
         sub text PRIMARY KEY,
         wrapped bytea,
         created_at timestamptz NOT NULL DEFAULT now(),
         erased_at timestamptz,
         CHECK ((wrapped IS NULL) = (erased_at IS NOT NULL))
       )`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE personal_data_keys`);
  }
}
