import { createHash, randomBytes } from 'node:crypto';
import { loadConfig } from '#lib/config';
import {
  decideGrant,
  grantIdOf,
  grantStreamId,
  hashGrantToken,
  initialGrantState,
  mintGrantToken,
  newGrantId,
} from '#lib/domain-grant';
import { createEventStoreDataSource, PgEventStore } from '#lib/event-store';
import type { Keyset } from '#lib/keysets';
import type { DataSource } from 'typeorm';
import { basic, type RunningSystem } from '../system.js';
import type { Answer, Sender, StepResult, Workload } from './driver.js';

/**
 * The workloads of the fault suite and the books they keep (the ledger): every token the system
 * answered with 200, every revocation it confirmed, every refresh-token family. The checks after
 * the run compare these books with the event store, JetStream and the projections.
 */

export interface IssuedToken {
  jti: string;
  token: string;
  clientId: string;
  workload: string;
  /** The grant it came from (authorization_code, refresh_token). */
  grantId?: string;
}

export interface Credentials {
  client_id: string;
  client_secret: string;
}

export class TokenLedger {
  /** Access tokens answered with 200, by jti. */
  readonly issued = new Map<string, IssuedToken>();
  /** jtis sent to /revoke (answered or not). */
  readonly revokeAttempted = new Set<string>();
  /** jtis whose revocation was answered 200. */
  readonly revoked = new Set<string>();
  /** Refresh tokens answered with 200, by grant (the family), in the order received. */
  readonly refreshTokens = new Map<string, string[]>();
  /** Refresh token answered 200 with no later attempt, per family: the one to use next. */
  readonly currentRefresh = new Map<string, string>();
  /** Clients by id, for the checks (introspection by the owning client). */
  readonly clients = new Map<string, Credentials>();
  private readonly unrevoked: string[] = [];

  addToken(token: IssuedToken): void {
    this.issued.set(token.jti, token);
    this.unrevoked.push(token.jti);
  }

  addRefresh(grantId: string, refreshToken: string): void {
    const list = this.refreshTokens.get(grantId) ?? [];
    list.push(refreshToken);
    this.refreshTokens.set(grantId, list);
    this.currentRefresh.set(grantId, refreshToken);
  }

  /** A token not yet sent to /revoke, taken out of that pool. */
  takeForRevocation(): IssuedToken | null {
    const jti = this.unrevoked.pop();
    return jti === undefined ? null : this.issued.get(jti)!;
  }

  randomToken(): IssuedToken | null {
    if (this.issued.size === 0) return null;
    const jtis = [...this.issued.keys()].slice(-200);
    return this.issued.get(jtis[Math.floor(Math.random() * jtis.length)]!)!;
  }
}

/** The payload of a JWT, unverified (the jti is all the suite needs from it). */
export function jwtPayload(token: string): Record<string, unknown> {
  const part = token.split('.')[1];
  if (!part) throw new Error('not a JWT');
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
}

const formPost = (form: Record<string, string>, auth: Credentials): RequestInit => ({
  method: 'POST',
  headers: {
    'content-type': 'application/x-www-form-urlencoded',
    authorization: basic(auth.client_id, auth.client_secret),
  },
  body: new URLSearchParams(form).toString(),
});

const ok = (a: Answer): a is Extract<Answer, { kind: 'http' }> =>
  a.kind === 'http' && a.status >= 200 && a.status < 300;

/** Records the access token of a 200 token response; a violation when the answer is malformed. */
function recordTokenResponse(
  ledger: TokenLedger,
  answer: Answer,
  workload: string,
  clientId: string,
  grantId?: string,
): StepResult {
  if (!ok(answer)) return { answer };
  try {
    const body = JSON.parse(answer.body) as { access_token?: string; refresh_token?: string };
    const jti = jwtPayload(body.access_token ?? '').jti;
    if (typeof jti !== 'string') return { answer, violation: 'a 200 token response without a jti' };
    ledger.addToken({ jti, token: body.access_token!, clientId, workload, grantId });
    if (grantId && body.refresh_token) {
      if (grantIdOf(body.refresh_token) !== grantId)
        return { answer, violation: 'a refresh token that does not name its grant' };
      ledger.addRefresh(grantId, body.refresh_token);
    }
    return { answer };
  } catch (err) {
    return { answer, violation: `a 200 token response that cannot be read: ${(err as Error).message}` };
  }
}

/** POST /token grant_type=client_credentials (RFC 6749 §4.4). */
export function clientCredentialsWorkload(ledger: TokenLedger, client: Credentials): Workload {
  ledger.clients.set(client.client_id, client);
  return {
    name: 'client_credentials',
    weight: 3,
    async step(send: Sender) {
      const answer = await send(
        '/token',
        formPost({ grant_type: 'client_credentials', scope: 'read' }, client),
      );
      return recordTokenResponse(ledger, answer, 'client_credentials', client.client_id);
    },
  };
}

/**
 * POST /introspect of a token answered earlier (RFC 7662). Read-your-writes while the faults go
 * on (checklist ES-01): a token whose revocation was confirmed must be inactive; a token never
 * sent to /revoke must be active.
 */
export function introspectionWorkload(ledger: TokenLedger): Workload {
  return {
    name: 'introspection',
    weight: 2,
    async step(send: Sender) {
      const token = ledger.randomToken();
      if (!token) return null;
      const confirmedRevoked = ledger.revoked.has(token.jti);
      const untouched = !ledger.revokeAttempted.has(token.jti) && token.grantId === undefined;
      const answer = await send(
        '/introspect',
        formPost({ token: token.token }, ledger.clients.get(token.clientId)!),
      );
      if (!ok(answer)) return { answer };
      const active = (JSON.parse(answer.body) as { active?: unknown }).active;
      if (confirmedRevoked && active !== false)
        return { answer, violation: `revoked token ${token.jti} introspected as active` };
      // A revocation sent while this introspection was in flight may have won the race.
      if (untouched && !ledger.revokeAttempted.has(token.jti) && active !== true)
        return { answer, violation: `token ${token.jti} answered 200 at /token introspected as inactive` };
      return { answer };
    },
  };
}

/** POST /revoke of an access token answered earlier (RFC 7009). */
export function revocationWorkload(ledger: TokenLedger): Workload {
  return {
    name: 'revocation',
    async step(send: Sender) {
      const token = ledger.takeForRevocation();
      if (!token) return null;
      ledger.revokeAttempted.add(token.jti);
      const answer = await send(
        '/revoke',
        formPost(
          { token: token.token, token_type_hint: 'access_token' },
          ledger.clients.get(token.clientId)!,
        ),
      );
      if (ok(answer)) ledger.revoked.add(token.jti);
      return { answer };
    },
  };
}

export const REDIRECT_URI = 'https://faults.test/cb';

interface SeededCode {
  grantId: string;
  code: string;
  verifier: string;
}

/**
 * Authorization codes without the browser: the consent service's contract (docs/events.md, the
 * grant stream) is an AuthorizationCodeIssued event on a new stream `grant-<grantId>` whose code is
 * `<grantId>.<secret>` stored as hashGrantToken(code, SECRET_HASH_KEYS). The suite appends those
 * events itself, into the system's database, so that code redemptions can run under load.
 */
export class CodeSeeder {
  private dataSource: DataSource | null = null;
  private store: PgEventStore | null = null;
  private readonly secretHashKeys: Keyset;
  readonly pool: SeededCode[] = [];
  seeded = 0;

  constructor(
    private readonly system: RunningSystem,
    private readonly client: Credentials,
    private readonly scope: string[],
  ) {
    this.secretHashKeys = loadConfig(system.env).secretHashKeys;
  }

  async topUp(size: number): Promise<void> {
    if (!this.store) {
      this.dataSource = createEventStoreDataSource(this.system.database.url, {
        poolSize: 2,
        applicationName: 'fault-suite code seeder',
      });
      await this.dataSource.initialize();
      this.store = new PgEventStore(this.dataSource);
    }
    const sub = `fault-user-${randomBytes(6).toString('hex')}`;
    while (this.pool.length < size) {
      const grantId = newGrantId();
      const code = mintGrantToken(grantId);
      const verifier = randomBytes(32).toString('base64url');
      const now = new Date();
      const { events } = decideGrant(
        {
          type: 'IssueAuthorizationCode',
          grantId,
          clientId: this.client.client_id,
          sub,
          username: 'fault-user',
          scope: this.scope,
          redirectUri: REDIRECT_URI,
          deliveredTo: REDIRECT_URI,
          codeChallenge: createHash('sha256').update(verifier).digest('base64url'),
          codeHash: hashGrantToken(code, this.secretHashKeys),
          authTime: Math.floor(now.getTime() / 1000),
          now,
          ttlSeconds: 900,
        },
        initialGrantState(),
      );
      await this.store.appendToStream(
        grantStreamId(grantId),
        0,
        events.map((e) => ({ ...e, metadata: { actor: 'system:fault-suite' } })),
      );
      this.pool.push({ grantId, code, verifier });
      this.seeded++;
    }
  }

  async close(): Promise<void> {
    await this.dataSource?.destroy().catch(() => undefined);
  }
}

/**
 * POST /token grant_type=authorization_code (RFC 6749 §4.1.3, RFC 7636 §4.5) with a seeded code,
 * each code sent once: an answer lost to a fault is not retried (a replay would revoke the grant).
 */
export function codeRedemptionWorkload(
  ledger: TokenLedger,
  client: Credentials,
  seeder: CodeSeeder,
): Workload {
  ledger.clients.set(client.client_id, client);
  return {
    name: 'authorization_code',
    setup: () => seeder.topUp(150),
    refill: () => seeder.topUp(150),
    async step(send: Sender) {
      const seeded = seeder.pool.shift();
      if (!seeded) return null;
      const answer = await send(
        '/token',
        formPost(
          {
            grant_type: 'authorization_code',
            code: seeded.code,
            redirect_uri: REDIRECT_URI,
            code_verifier: seeded.verifier,
          },
          client,
        ),
      );
      return recordTokenResponse(ledger, answer, 'authorization_code', client.client_id, seeded.grantId);
    },
  };
}

/**
 * POST /token grant_type=refresh_token (RFC 6749 §6) with the current token of a family the code
 * workload opened. Once a refresh request of a family is sent, its token is never sent again
 * unless it was answered 200 (re-sending a token whose rotation was lost would be reuse, and revoke
 * the family: right, but not this workload's purpose).
 */
export function refreshWorkload(ledger: TokenLedger, client: Credentials): Workload {
  return {
    name: 'refresh_token',
    weight: 2,
    async step(send: Sender) {
      const entry = [...ledger.currentRefresh.entries()][0];
      if (!entry) return null;
      const [grantId, refreshToken] = entry;
      ledger.currentRefresh.delete(grantId);
      const answer = await send(
        '/token',
        formPost({ grant_type: 'refresh_token', refresh_token: refreshToken }, client),
      );
      return recordTokenResponse(ledger, answer, 'refresh_token', client.client_id, grantId);
    },
  };
}
