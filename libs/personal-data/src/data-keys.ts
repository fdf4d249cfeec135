import type { DataSource } from 'typeorm';
import { newDataKey, unwrapDataKey, wrapDataKey } from './cipher.js';

/**
 * The per-person data keys. `null`: the key was destroyed (the person was erased); absent from
 * the map: the person never had one (nothing of theirs was ever sealed).
 */
export interface DataKeys {
  keysOf(subs: readonly string[]): Promise<Map<string, Buffer | null>>;
  /** The keys of these subjects, created for those who have none yet (erased ones stay null). */
  keysFor(subs: readonly string[]): Promise<Map<string, Buffer | null>>;
  /** Destroys the subject's key; true when a key existed until now. A subject with no key is recorded as erased. */
  erase(sub: string, at: Date): Promise<boolean>;
}

/** Data keys in memory, for tests of what seals and opens. */
export class InMemoryDataKeys implements DataKeys {
  private readonly keys = new Map<string, Buffer | null>();

  keysOf(subs: readonly string[]): Promise<Map<string, Buffer | null>> {
    const found = new Map<string, Buffer | null>();
    for (const sub of subs) if (this.keys.has(sub)) found.set(sub, this.keys.get(sub)!);
    return Promise.resolve(found);
  }

  keysFor(subs: readonly string[]): Promise<Map<string, Buffer | null>> {
    for (const sub of subs) if (!this.keys.has(sub)) this.keys.set(sub, newDataKey());
    return this.keysOf(subs);
  }

  erase(sub: string): Promise<boolean> {
    const had = this.keys.get(sub) instanceof Buffer;
    this.keys.set(sub, null);
    return Promise.resolve(had);
  }
}

/**
 * Data keys in Postgres (table personal_data_keys, owned by the consent service), each wrapped
 * under the key-encryption key. Erasure sets `wrapped` to NULL: the row stays, so a late write
 * for an erased person seals nothing readable. Old row versions stay in the table's pages until
 * VACUUM and in backups until they expire (docs/privacy-and-retention.md).
 */
export class PgDataKeys implements DataKeys {
  constructor(
    private readonly dataSource: DataSource,
    private readonly kek: Buffer,
  ) {}

  async keysOf(subs: readonly string[]): Promise<Map<string, Buffer | null>> {
    const unique = [...new Set(subs)];
    if (unique.length === 0) return new Map();
    const rows: { sub: string; wrapped: Buffer | null }[] = await this.dataSource.query(
      `SELECT sub, wrapped FROM personal_data_keys WHERE sub = ANY($1::text[])`,
      [unique],
    );
    return new Map(
      rows.map((r) => [r.sub, r.wrapped === null ? null : unwrapDataKey(this.kek, r.sub, r.wrapped)]),
    );
  }

  async keysFor(subs: readonly string[]): Promise<Map<string, Buffer | null>> {
    const found = await this.keysOf(subs);
    const missing = [...new Set(subs)].filter((s) => !found.has(s));
    if (missing.length === 0) return found;
    // Two writers creating one person's key: the first insert wins and both read it back.
    await this.dataSource.query(
      `INSERT INTO personal_data_keys (sub, wrapped)
       SELECT * FROM unnest($1::text[], $2::bytea[]) ON CONFLICT (sub) DO NOTHING`,
      [missing, missing.map((sub) => wrapDataKey(this.kek, sub, newDataKey()))],
    );
    for (const [sub, key] of await this.keysOf(missing)) found.set(sub, key);
    return found;
  }

  async erase(sub: string, at: Date): Promise<boolean> {
    const rows: { had: boolean }[] = await this.dataSource.query(
      `WITH before AS (SELECT wrapped IS NOT NULL AS had FROM personal_data_keys WHERE sub = $1)
       INSERT INTO personal_data_keys (sub, wrapped, erased_at) VALUES ($1, NULL, $2)
       ON CONFLICT (sub) DO UPDATE SET wrapped = NULL,
         erased_at = COALESCE(personal_data_keys.erased_at, EXCLUDED.erased_at)
       RETURNING (SELECT had FROM before) AS had`,
      [sub, at],
    );
    return rows[0]?.had === true;
  }
}
