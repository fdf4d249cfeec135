import type { KeyUpdate, LoginAttemptStore } from '#lib/domain-consent';
import type { DataSource } from 'typeorm';

/**
 * The login_throttle table (migration LoginThrottle1795711000000), shared by every consent replica.
 * Each key's row is locked by an upsert (created if absent) until the transaction ends, so updates
 * of a key from any replica run one after another; keys are locked in the order given.
 */
export class PgLoginAttemptStore implements LoginAttemptStore {
  constructor(private readonly dataSource: DataSource) {}

  async update<T>(keys: readonly string[], change: (failures: number[][]) => KeyUpdate<T>): Promise<T> {
    const qr = this.dataSource.createQueryRunner();
    try {
      await qr.connect();
      await qr.startTransaction();
      try {
        const failures: number[][] = [];
        for (const key of keys) {
          const rows: { failures: number[] }[] = await qr.query(
            `INSERT INTO login_throttle (key) VALUES ($1)
             ON CONFLICT (key) DO UPDATE SET key = excluded.key
             RETURNING failures`,
            [key],
          );
          failures.push(rows[0]!.failures.map(Number));
        }
        const { result, writes } = change(failures);
        if (writes === null) {
          // Nothing counted: the rows an absent key got for its lock go too.
          await qr.rollbackTransaction();
          return result;
        }
        for (const [i, key] of keys.entries()) {
          const write = writes[i]!;
          if (write.failures.length === 0) {
            await qr.query(`DELETE FROM login_throttle WHERE key = $1`, [key]);
          } else {
            await qr.query(
              `UPDATE login_throttle SET failures = $2::double precision[], forget_after = to_timestamp($3)
               WHERE key = $1`,
              [key, write.failures, write.forgetAfter],
            );
          }
        }
        await qr.commitTransaction();
        return result;
      } catch (err) {
        if (qr.isTransactionActive) await qr.rollbackTransaction().catch(() => undefined);
        throw err;
      }
    } finally {
      await qr.release();
    }
  }

  async forgetExpired(nowSeconds: number): Promise<number> {
    const rows: { n: string }[] = await this.dataSource.query(
      `WITH gone AS (DELETE FROM login_throttle WHERE forget_after < to_timestamp($1) RETURNING 1)
       SELECT count(*) AS n FROM gone`,
      [nowSeconds],
    );
    return Number(rows[0]!.n);
  }
}
