import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import pg from 'pg';
import type { RunningSystem } from './system.js';

/**
 * Checklist STORE-01/03/05: searches every table's rows (as text) and every message of the event
 * stream for each form of each secret. Returns where something was found (empty: nothing leaked),
 * and how much was searched, so that a search over nothing cannot pass unnoticed.
 */
export interface SecretSearch {
  hits: { where: string; form: string }[];
  tablesSearched: number;
  messagesSearched: number;
}

export async function searchForSecrets(
  system: RunningSystem,
  secrets: string[],
  formsOf: (secret: string) => string[] = (s) => [s],
  minMessages = 1,
): Promise<SecretSearch> {
  const hits: SecretSearch['hits'] = [];
  const db = new pg.Client({ connectionString: system.database.url });
  await db.connect();
  let tablesSearched = 0;
  try {
    const tables = await db.query<{ table_name: string }>(
      `select table_name from information_schema.tables where table_schema = 'public' and table_type = 'BASE TABLE'`,
    );
    tablesSearched = tables.rows.length;
    for (const { table_name } of tables.rows) {
      for (const form of secrets.flatMap(formsOf)) {
        const found = await db.query<{ n: number }>(
          `select count(*)::int as n from "${table_name}" t where t::text like $1`,
          [`%${form}%`],
        );
        if (found.rows[0]!.n > 0) hits.push({ where: `table ${table_name}`, form });
      }
    }
  } finally {
    await db.end();
  }

  const nc = await connect({ servers: system.env.NATS_URL! });
  let messagesSearched = 0;
  try {
    const jsm = await jetstreamManager(nc);
    const stream = system.env.EVENTS_STREAM!;
    // The relay publishes right after each commit; give it a moment to catch up.
    const deadline = Date.now() + 10000;
    let info = await jsm.streams.info(stream);
    while (info.state.messages < minMessages && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      info = await jsm.streams.info(stream);
    }
    for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
      const msg = await jsm.streams.getMessage(stream, { seq });
      const text = msg ? new TextDecoder().decode(msg.data) : '';
      messagesSearched++;
      for (const form of secrets.flatMap(formsOf)) {
        if (text.includes(form)) hits.push({ where: `JetStream message ${seq}`, form });
      }
    }
  } finally {
    await nc.close();
  }
  return { hits, tablesSearched, messagesSearched };
}
