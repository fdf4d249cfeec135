import { type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Login throttling (RFC 6749 §10.10), owned by the consent service: failure times per key
 * (an HMAC of an account or a source address), shared by every consent replica. A login locks its
 * keys' rows while it counts the attempt, so parallel attempts are counted one after another.
 * `forget_after` serves the periodic delete of records that no longer count.
 */
export class LoginThrottle1795711000000 implements MigrationInterface {
  name = 'LoginThrottle1795711000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(
      `CREATE TABLE login_throttle (
         key text PRIMARY KEY,
         failures double precision[] NOT NULL DEFAULT '{}',
         forget_after timestamptz NOT NULL DEFAULT now()
       )`,
    );
    await queryRunner.query(`CREATE INDEX login_throttle_forget_after_idx ON login_throttle (forget_after)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE login_throttle`);
  }
}
