import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { clientsProjection } from '#lib/domain-client';
import {
  createEventStoreDataSource,
  PgEventStore,
  type Projection,
  rebuildAndCompare,
} from '#lib/event-store';
import pg from 'pg';
import { basic, type RunningSystem } from '../system.js';
import type { TokenLedger } from './workloads.js';

/**
 * What the fault suite checks after the load stopped and the system settled (issue 10): nothing
 * answered was lost, nothing was recorded or relayed twice, every projection equals a rebuild,
 * no refresh-token family has two live tokens, no revoked token is active.
 */
export interface Figures {
  /** Tokens answered 200. */
  tokensAnswered: number;
  /** AccessTokenIssued events in the store. */
  issuanceEvents: number;
  /** 200 answers with no AccessTokenIssued for their jti. */
  lost: number;
  /** jtis with more than one AccessTokenIssued. */
  duplicates: number;
  /** Issuance events whose answer never reached the client (committed, then a fault). */
  committedUnanswered: number;
  /** Revocations answered 200 / of those with no AccessTokenRevoked event. */
  revocationsAnswered: number;
  revocationsLost: number;
  /** Events in the store; messages in the JetStream stream; event ids relayed twice; missing; unknown. */
  events: number;
  streamMessages: number;
  streamDuplicates: number;
  streamMissing: number;
  streamUnknown: number;
  /** Projection name → EQUAL or DIFFERENT (with details). */
  projections: Record<string, string>;
  /** Revoked tokens (answered 200, or in a revoked grant) introspected / found active. */
  revokedChecked: number;
  revokedActive: number;
  /** Tokens never revoked whose token_state row is missing. */
  missingFromTokenState: number;
  /** Refresh families checked / with more than one active token / forked in the event log. */
  refreshFamilies: number;
  familiesWithTwoLive: number;
  forkedFamilies: number;
}

async function withDb<T>(system: RunningSystem, work: (db: pg.Client) => Promise<T>): Promise<T> {
  const db = new pg.Client({ connectionString: system.database.url });
  await db.connect();
  try {
    return await work(db);
  } finally {
    await db.end();
  }
}

/** Waits until the relay has published every committed event (stream's last position = head). */
export async function waitForRelay(system: RunningSystem, timeoutMs = 60000): Promise<void> {
  const head = await withDb(system, async (db) => {
    const r = await db.query<{ head: string | null }>(`SELECT max(global_position) AS head FROM events`);
    return Number(r.rows[0]!.head ?? 0);
  });
  const nc = await connect({ servers: system.env.NATS_URL! });
  try {
    const jsm = await jetstreamManager(nc);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const info = await jsm.streams.info(system.env.EVENTS_STREAM!).catch(() => null);
      if (info && info.state.last_seq > 0) {
        const last = await jsm.streams.getMessage(system.env.EVENTS_STREAM!, { seq: info.state.last_seq });
        const position = last
          ? (JSON.parse(new TextDecoder().decode(last.data)) as { globalPosition: number }).globalPosition
          : 0;
        if (position >= head) return;
      }
      if (Date.now() > deadline)
        throw new Error(`the relay did not reach position ${head} in ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    await nc.close();
  }
}

/** Every message of the event stream: its event id and global position, in stream order. */
async function streamMessages(system: RunningSystem): Promise<{ eventId: string; position: number }[]> {
  const nc = await connect({ servers: system.env.NATS_URL! });
  try {
    const stream = system.env.EVENTS_STREAM!;
    const info = await (await jetstreamManager(nc)).streams.info(stream);
    const out: { eventId: string; position: number }[] = [];
    if (info.state.messages === 0) return out;
    const consumer = await jetstream(nc).consumers.get(stream);
    const messages = await consumer.consume({ max_messages: 500 });
    for await (const m of messages) {
      const body = JSON.parse(new TextDecoder().decode(m.data)) as {
        eventId: string;
        globalPosition: number;
      };
      out.push({ eventId: body.eventId, position: body.globalPosition });
      if (m.seq >= info.state.last_seq) break;
    }
    await messages.close();
    return out;
  } finally {
    await nc.close();
  }
}

async function introspect(system: RunningSystem, ledger: TokenLedger, token: string, clientId: string) {
  const client = ledger.clients.get(clientId)!;
  const res = await fetch(`${system.baseUrl}/introspect`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: basic(client.client_id, client.client_secret),
    },
    body: new URLSearchParams({ token }).toString(),
  });
  if (res.status !== 200) throw new Error(`introspection answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as { active: boolean };
}

async function inBatches<T>(items: T[], size: number, work: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += size) await Promise.all(items.slice(i, i + size).map(work));
}

/** The projections the services keep; the CLI rebuilds its list, the library the others. */
const LIBRARY_PROJECTIONS: Projection[] = [clientsProjection as unknown as Projection];

export async function checkAfterRun(system: RunningSystem, ledger: TokenLedger): Promise<Figures> {
  await waitForRelay(system);

  const db = await withDb(system, async (c) => {
    const issuance = await c.query<{ jti: string; n: number }>(
      `SELECT data->>'jti' AS jti, count(*)::int AS n FROM events WHERE type = 'AccessTokenIssued' GROUP BY 1`,
    );
    const revocations = await c.query<{ jti: string }>(
      `SELECT data->>'jti' AS jti FROM events WHERE type = 'AccessTokenRevoked'`,
    );
    const events = await c.query<{ event_id: string }>(
      `SELECT event_id FROM events ORDER BY global_position`,
    );
    const grants = await c.query<{ stream_id: string; type: string; data: Record<string, unknown> }>(
      `SELECT stream_id, type, data FROM events WHERE stream_id LIKE 'grant-%' ORDER BY global_position`,
    );
    const tokenState = await c.query<{ key: string }>(
      `SELECT key FROM projection_rows WHERE projection = 'token_state'`,
    );
    return {
      issuance: new Map(issuance.rows.map((r) => [r.jti, r.n])),
      revoked: new Set(revocations.rows.map((r) => r.jti)),
      eventIds: events.rows.map((r) => r.event_id),
      grants: grants.rows,
      tokenState: new Set(tokenState.rows.map((r) => r.key)),
    };
  });

  // Exactly one AccessTokenIssued per token answered 200.
  const lost = [...ledger.issued.keys()].filter((jti) => !db.issuance.has(jti)).length;
  const duplicates = [...db.issuance.values()].filter((n) => n > 1).length;
  const committedUnanswered = [...db.issuance.keys()].filter((jti) => !ledger.issued.has(jti)).length;
  const revocationsLost = [...ledger.revoked].filter((jti) => !db.revoked.has(jti)).length;

  // JetStream holds each event exactly once.
  const messages = await streamMessages(system);
  const seen = new Map<string, number>();
  for (const m of messages) seen.set(m.eventId, (seen.get(m.eventId) ?? 0) + 1);
  const inStore = new Set(db.eventIds);

  // Every projection equals a rebuild from position 0.
  const projections: Record<string, string> = {};
  let cliOut: string;
  try {
    cliOut = await system.cli(['projections', 'rebuild']);
  } catch (err) {
    cliOut = String((err as { stdout?: string }).stdout ?? (err as Error).message);
  }
  for (const m of cliOut.matchAll(/^(\S+): (EQUAL|DIFFERENT)(.*)$/gm)) projections[m[1]!] = m[2]! + m[3]!;
  if (Object.keys(projections).length === 0) projections['(cli)'] = `no report: ${cliOut.slice(0, 300)}`;
  const ds = createEventStoreDataSource(system.database.url, {
    poolSize: 2,
    applicationName: 'fault-suite checks',
  });
  await ds.initialize();
  try {
    for (const projection of LIBRARY_PROJECTIONS) {
      if (projections[projection.name]) continue;
      const report = await rebuildAndCompare(ds, new PgEventStore(ds), projection);
      projections[projection.name] =
        `${report.equal ? 'EQUAL' : 'DIFFERENT'} at position ${report.position} (live ${report.liveRows}, rebuilt ${report.rebuiltRows})`;
    }
  } finally {
    await ds.destroy();
  }

  // Refresh families: at most one live token, and a linear chain of rotations in the log.
  const revokedGrants = new Set<string>();
  const chains = new Map<string, { current: string | null; forked: boolean }>();
  for (const e of db.grants) {
    const grantId = e.stream_id.slice('grant-'.length);
    const chain = chains.get(grantId) ?? { current: null, forked: false };
    chains.set(grantId, chain);
    if (e.type === 'GrantRevoked') revokedGrants.add(grantId);
    if (e.type === 'RefreshTokenIssued') {
      if (chain.current !== null) chain.forked = true;
      chain.current = String(e.data.tokenHash);
    }
    if (e.type === 'RefreshTokenRotated') {
      if (e.data.previousHash !== chain.current && e.data.withinGrace !== true) chain.forked = true;
      chain.current = String(e.data.tokenHash);
    }
  }
  const forkedFamilies = [...chains.values()].filter((c) => c.forked).length;
  let familiesWithTwoLive = 0;
  const families = [...ledger.refreshTokens.entries()];
  const familyClient = (grantId: string) =>
    [...ledger.issued.values()].find((t) => t.grantId === grantId)?.clientId;
  await inBatches(families, 8, async ([grantId, tokens]) => {
    const clientId = familyClient(grantId);
    if (!clientId) return;
    let live = 0;
    for (const t of tokens) if ((await introspect(system, ledger, t, clientId)).active) live++;
    if (live > 1) familiesWithTwoLive++;
  });

  // No revoked token active: revocations answered 200, and every token of a revoked grant.
  const mustBeInactive = [...ledger.issued.values()].filter(
    (t) => ledger.revoked.has(t.jti) || (t.grantId !== undefined && revokedGrants.has(t.grantId)),
  );
  let revokedActive = 0;
  await inBatches(mustBeInactive, 8, async (t) => {
    if ((await introspect(system, ledger, t.token, t.clientId)).active) revokedActive++;
  });
  const missingFromTokenState = [...ledger.issued.keys()].filter(
    (jti) => !ledger.revokeAttempted.has(jti) && !db.tokenState.has(jti),
  ).length;

  return {
    tokensAnswered: ledger.issued.size,
    issuanceEvents: [...db.issuance.values()].reduce((a, b) => a + b, 0),
    lost,
    duplicates,
    committedUnanswered,
    revocationsAnswered: ledger.revoked.size,
    revocationsLost,
    events: db.eventIds.length,
    streamMessages: messages.length,
    streamDuplicates: [...seen.values()].filter((n) => n > 1).length,
    streamMissing: db.eventIds.filter((id) => !seen.has(id)).length,
    streamUnknown: [...seen.keys()].filter((id) => !inStore.has(id)).length,
    projections,
    revokedChecked: mustBeInactive.length,
    revokedActive,
    missingFromTokenState,
    refreshFamilies: families.length,
    familiesWithTwoLive,
    forkedFamilies,
  };
}
