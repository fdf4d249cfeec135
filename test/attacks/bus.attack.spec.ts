import { connect, type NatsConnection } from '@nats-io/transport-node';
import { createTestDatabase, natsServers, type TestDatabase } from '#lib/testing';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { freePort } from '../support/system.js';
import { type NpmStart, startNpmStart } from '../support/npm-start.js';

/**
 * Issue 18, item 2, against the system as `npm start` runs it: the bus has least privilege. An
 * anonymous connection reaches nothing; the internet-facing gateway's credentials reach only the
 * public operations; and a privileged command is decided by its owning service from a credential it
 * verifies itself, never from an `actor` or `admin` flag in the message.
 */
describe('the bus as npm start runs it (checklist PRIV-06, PRIV-07, PRIV-08)', () => {
  let dir: string;
  let database: TestDatabase;
  let start: NpmStart;
  let natsUrl: string;
  let prefix: string;
  let secrets: Record<string, string>;
  const open: NatsConnection[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'authz-start-'));
    database = await createTestDatabase('npmstart');
    prefix = `npmstart-${process.pid}`;
    start = await startNpmStart(dir, database.url, prefix);
    natsUrl = start.natsUrl;
    secrets = Object.fromEntries(
      readFileSync(join(dir, '.data/secrets.env'), 'utf8')
        .split('\n')
        .map((l) => /^([A-Z0-9_]+)=(.*)$/.exec(l))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => [m[1]!, m[2]!]),
    );
  }, 180000);

  afterAll(async () => {
    for (const nc of open) await nc.close().catch(() => undefined);
    await start?.stop();
    await database?.drop().catch(() => undefined);
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 30000);

  async function as(user: string): Promise<NatsConnection> {
    const nc = await connect({
      servers: natsUrl,
      user,
      pass: secrets[`NATS_PASSWORD_${user.toUpperCase().replace(/-/g, '_')}`],
      inboxPrefix: `_INBOX.${user}`,
      maxReconnectAttempts: 0,
      timeout: 3000,
    });
    open.push(nc);
    return nc;
  }

  /** Nest's NATS request envelope; resolves to the reply packet, or the error the client saw. */
  async function call(nc: NatsConnection, subject: string, data: unknown): Promise<unknown> {
    try {
      const reply = await nc.request(subject, JSON.stringify({ pattern: subject, data, id: '1' }), {
        timeout: 3000,
      });
      return JSON.parse(reply.string()) as unknown;
    } catch (err) {
      return err;
    }
  }

  /** Waits for a permissions violation reported on the connection's status stream. */
  function violation(nc: NatsConnection): Promise<string> {
    return new Promise((resolve) => {
      void (async () => {
        for await (const s of nc.status()) {
          const text = JSON.stringify(s);
          if (/permission/i.test(text)) return resolve(text);
        }
      })();
      setTimeout(() => resolve('none'), 5000);
    });
  }

  it('PRIV-06: an anonymous connection is refused by the server', async () => {
    await expect(connect({ servers: natsUrl, maxReconnectAttempts: 0, timeout: 3000 })).rejects.toThrow(
      /authorization/i,
    );
  });

  it("PRIV-07: the gateway's credentials work for a public operation", async () => {
    const nc = await as('gateway');
    const reply = (await call(nc, `${prefix}.token.jwks`, {})) as { response?: { keys?: unknown[] } };
    expect(Array.isArray(reply.response?.keys)).toBe(true);
  });

  it.each([
    ['create a client', 'client.admin.create'],
    ['mint an initial access token', 'client.admin.create-initial-access-token'],
    ['set a password', 'consent.admin.set-password'],
    ['list users', 'consent.admin.list-users'],
    ['erase a user', 'consent.admin.erase-user'],
  ])("PRIV-07: the gateway's credentials cannot %s (NATS permissions)", async (_what, subject) => {
    const nc = await as('gateway');
    const seen = violation(nc);
    const reply = await call(nc, `${prefix}.${subject}`, { credential: secrets.ADMIN_TOKEN });
    expect(reply).toBeInstanceOf(Error);
    expect(await seen).toMatch(/permission/i);
  });

  it.each([
    ['gateway', 'token.issue-authorization-code'],
    ['gateway', 'token.revoke-grant'],
    ['gateway', 'token.revoke'],
    ['admin', 'token.issue-authorization-code'],
    ['admin', 'token.revoke-grant'],
    ['resource-server', 'token.issue-authorization-code'],
    ['gateway', 'token.issue-logout-token'],
    ['admin', 'token.issue-logout-token'],
    ['resource-server', 'token.issue-logout-token'],
  ])(
    "PRIV-07: the %s's credentials cannot send the token service a grant command meant for consent or introspection (%s)",
    async (user, subject) => {
      const nc = await as(user);
      const seen = violation(nc);
      // A code for the attacker's redirect URI, or a victim's grants revoked, if the bus let it through.
      const reply = await call(nc, `${prefix}.${subject}`, {
        context: { correlationId: 'attack' },
        actor: 'user:victim',
        grantId: 'forged-grant',
        clientId: 'forged-client',
        sub: 'victim',
        scope: ['openid'],
        redirectUri: null,
        deliveredTo: 'https://attacker.example/cb',
        codeChallenge: null,
        codeHash: 'k1.forged',
        authTime: 0,
        reason: 'user_disabled',
        grantIds: ['forged-grant'],
        credentials: null,
        token: 'forged-grant.token',
      });
      expect(reply).toBeInstanceOf(Error);
      expect(await seen).toMatch(/permission/i);
      const db = new pg.Client({ connectionString: database.url });
      await db.connect();
      try {
        const { rows } = await db.query(`SELECT 1 FROM events WHERE stream_id = 'grant-forged-grant'`);
        expect(rows).toHaveLength(0);
      } finally {
        await db.end();
      }
    },
  );

  it("PRIV-07: the gateway's credentials cannot read the event stream", async () => {
    const nc = await as('gateway');
    const seen = violation(nc);
    nc.subscribe(`${prefix}.events.>`);
    expect(await seen).toMatch(/permission/i);
  });

  it.each([
    ['actor "admin"', { actor: 'admin' }],
    ['admin: true', { admin: true, actor: 'admin' }],
    ['a forged credential', { credential: 'not-the-admin-token-but-long-enough-0000000000' }],
  ])(
    'PRIV-08: a privileged command carrying %s without a verifiable credential is refused',
    async (_n, claim) => {
      const nc = await as('admin');
      const reply = (await call(nc, `${prefix}.client.admin.create`, {
        context: { correlationId: 'attack' },
        document: { client_name: 'forged', grant_types: ['client_credentials'], scope: 'admin' },
        ...claim,
      })) as { err?: { error?: string } };
      expect(reply.err?.error).toBe('invalid_token');
      const db = new pg.Client({ connectionString: database.url });
      await db.connect();
      try {
        const { rows } = await db.query(
          `SELECT 1 FROM events WHERE type = 'ClientRegistered' AND data->>'clientName' = 'forged'`,
        );
        expect(rows).toHaveLength(0);
      } finally {
        await db.end();
      }
    },
  );
});

describe('a production process on a bus that asks for no credentials (checklist PRIV-06)', () => {
  /** Starts the built gateway alone with NODE_ENV=production on the shared test NATS (no auth). */
  async function gatewayOnOpenBus(
    extra: Record<string, string>,
  ): Promise<{ code: number | null; output: string }> {
    const port = await freePort();
    const child = spawn(process.execPath, [resolve('dist/apps/gateway/src/main.js')], {
      env: {
        ...(process.env as Record<string, string>),
        NODE_ENV: 'production',
        NATS_URL: natsServers(),
        HTTP_PORT: String(port),
        ADMIN_HTTP_PORT: '0',
        OPS_PORT: '0',
        LOG_LEVEL: 'warn',
        ...extra,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    const code = await new Promise<number | null>((done) => {
      child.once('exit', (c) => done(c));
      // Still running after 10 s: it started.
      setTimeout(() => {
        child.kill('SIGTERM');
        done(null);
      }, 10000);
    });
    return { code, output };
  }

  it('PRIV-06: in production a process refuses to start on an unauthenticated NATS', async () => {
    const { code, output } = await gatewayOnOpenBus({});
    expect(code).toBe(1);
    expect(output).toMatch(/asks for no credentials/);
    expect(output).toMatch(/NATS_ALLOW_UNAUTHENTICATED/);
  }, 30000);

  it('PRIV-06: NATS_ALLOW_UNAUTHENTICATED=true is the explicit way to run on it anyway', async () => {
    const { code } = await gatewayOnOpenBus({ NATS_ALLOW_UNAUTHENTICATED: 'true' });
    expect(code).toBeNull();
  }, 30000);
});
