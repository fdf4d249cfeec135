import { type DataSource, type QueryRunner } from 'typeorm';

/** First key of the relay's session advisory lock; the second is hashtext(stream name). */
const RELAY_LOCK_CLASS = 42_017_792;

/**
 * The lead of one JetStream stream's relays: a session advisory lock held on a connection of its
 * own, through which the leader also reads and saves its checkpoint (`checkpointName` in table
 * checkpoints). The lock lives as long as that session, so a leader that lost the connection
 * cannot save a checkpoint, and finds out at its next check.
 */
export class RelayLeader {
  private connection: QueryRunner | null = null;

  constructor(
    private readonly dataSource: DataSource,
    private readonly streamName: string,
    private readonly checkpointName: string,
  ) {}

  get isLeader(): boolean {
    return this.connection !== null;
  }

  /**
   * 'held' when this relay led already (its connection checked: a leader whose connection died
   * must not publish), 'taken' when it took the free lock now, null when another relay leads.
   */
  async take(): Promise<'held' | 'taken' | null> {
    if (this.connection) {
      await this.connection.query('SELECT 1');
      return 'held';
    }
    const qr = this.dataSource.createQueryRunner();
    let locked = false;
    try {
      const [row] = await qr.query(`SELECT pg_try_advisory_lock($1::int, hashtext($2)) AS locked`, [
        RELAY_LOCK_CLASS,
        this.streamName,
      ]);
      locked = (row as { locked: boolean }).locked;
    } finally {
      if (!locked) await qr.release();
    }
    if (!locked) return null;
    this.connection = qr;
    return 'taken';
  }

  /** Gives up the lock (if held) and its connection. */
  async stepDown(): Promise<void> {
    const qr = this.connection;
    if (!qr) return;
    this.connection = null;
    try {
      await qr.query(`SELECT pg_advisory_unlock($1::int, hashtext($2))`, [RELAY_LOCK_CLASS, this.streamName]);
    } catch {
      // The connection is gone, and the lock with it.
    } finally {
      await qr.release();
    }
  }

  /** The saved checkpoint (0: none), read through the leader's connection. */
  async checkpoint(): Promise<number> {
    const [row] = await this.leaderConnection().query(`SELECT position FROM checkpoints WHERE name = $1`, [
      this.checkpointName,
    ]);
    return row ? Number((row as { position: string }).position) : 0;
  }

  async saveCheckpoint(position: number): Promise<void> {
    await this.leaderConnection().query(
      `INSERT INTO checkpoints (name, position) VALUES ($1, $2)
       ON CONFLICT (name) DO UPDATE SET position = EXCLUDED.position, updated_at = now()`,
      [this.checkpointName, position],
    );
  }

  private leaderConnection(): QueryRunner {
    if (!this.connection) throw new Error(`relay ${this.streamName}: not the leader`);
    return this.connection;
  }
}
