import { type DataSource, type QueryRunner } from 'typeorm';

/** Runs `work` in one transaction on one pooled connection: COMMIT if it resolves, ROLLBACK if not. */
export async function inTransaction<T>(
  dataSource: DataSource,
  work: (qr: QueryRunner) => Promise<T>,
): Promise<T> {
  const qr = dataSource.createQueryRunner();
  try {
    await qr.connect();
    await qr.startTransaction();
    try {
      const result = await work(qr);
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
