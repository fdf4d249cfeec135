import { startPrivateNatsServer, type PrivateNatsServer } from '#lib/testing';
import { checkAfterRun, type Figures } from '../support/load/checks.js';
import { LoadDriver, type Workload } from '../support/load/driver.js';
import {
  clientCredentialsWorkload,
  CodeSeeder,
  codeRedemptionWorkload,
  introspectionWorkload,
  REDIRECT_URI,
  refreshWorkload,
  revocationWorkload,
  TokenLedger,
} from '../support/load/workloads.js';
import { PrivatePostgres } from '../support/private-postgres.js';
import { APPS, type AppName, type RunningSystem, startSystem } from '../support/system.js';

/**
 * Issue 10: reliability under faults. A steady load of token requests (client credentials,
 * introspection, revocation; code redemption and refresh when the system supports those grants)
 * runs while each service in turn is killed with SIGKILL and restarted, NATS is stopped and
 * restarted, and Postgres is restarted. Postgres and NATS are private instances of this suite.
 *
 * During an outage a request is answered 200 or fails fast (503 temporarily_unavailable with
 * Retry-After within the RPC timeout; a refused connection while the gateway itself is down);
 * never a 500, never a hang. After each fault the system recovers by itself. Afterwards: exactly
 * one AccessTokenIssued per token answered 200, every event exactly once in JetStream, every
 * projection equal to its rebuild from position 0, no refresh family with two live tokens, and
 * no revoked token active (checklist ES-01, ES-04).
 */
const RPC_TIMEOUT_MS = 2000;
/** Slowest acceptable answer: the RPC timeout plus the gateway's own work on a busy machine. */
const HANG_LIMIT_MS = RPC_TIMEOUT_MS + 3000;
const OUTAGE_MS = Number(process.env.FAULTS_OUTAGE_MS ?? 3000);
const STEADY_MS = Number(process.env.FAULTS_STEADY_MS ?? 3000);
const RECOVERY_LIMIT_MS = 30000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Fault injection under load (issue 10, checklist ES-04)', () => {
  let pgsql: PrivatePostgres;
  let nats: PrivateNatsServer;
  let system: RunningSystem;
  let seeder: CodeSeeder | null = null;

  beforeAll(async () => {
    pgsql = await PrivatePostgres.create();
    nats = await startPrivateNatsServer();
    system = await startSystem({
      natsUrl: nats.servers,
      postgresServerUrl: pgsql.url,
      rpcTimeoutMs: RPC_TIMEOUT_MS,
      // Tokens outlive the run, so that token_state still holds every row at the checks.
      env: { ACCESS_TOKEN_TTL_SECONDS: '3600' },
    });
  }, 120000);

  afterAll(async () => {
    await seeder?.close();
    try {
      pgsql?.start();
    } catch {
      // running
    }
    await system?.stop();
    await nats?.dispose();
    pgsql?.destroy();
  }, 60000);

  async function killAndRestart(app: AppName): Promise<void> {
    const child = system.children.get(app)!;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    await sleep(OUTAGE_MS);
    await system.launch(app);
    await system.waitOpsReady(app, 60000);
  }

  it('ES-04: kill -9 of every service, NATS and Postgres restarts: fast failures only, recovery, nothing lost or duplicated', async () => {
    const metadata = (await (
      await fetch(`${system.baseUrl}/.well-known/oauth-authorization-server`)
    ).json()) as { grant_types_supported: string[] };
    const grants = new Set(metadata.grant_types_supported);
    const ledger = new TokenLedger();
    const service = await system.createClient([
      '--name',
      'fault-cc',
      '--grant',
      'client_credentials',
      '--scope',
      'read',
    ]);
    const workloads: Workload[] = [
      clientCredentialsWorkload(ledger, service),
      introspectionWorkload(ledger),
      revocationWorkload(ledger),
    ];
    if (grants.has('authorization_code')) {
      const webGrants = ['--grant', 'authorization_code'];
      if (grants.has('refresh_token')) webGrants.push('--grant', 'refresh_token');
      const web = await system.createClient([
        '--name',
        'fault-web',
        ...webGrants,
        '--scope',
        'read',
        '--redirect-uri',
        REDIRECT_URI,
      ]);
      seeder = new CodeSeeder(system, web, ['read']);
      workloads.push(codeRedemptionWorkload(ledger, web, seeder));
      if (grants.has('refresh_token')) workloads.push(refreshWorkload(ledger, web));
    }
    for (const w of workloads) await w.setup?.();

    const driver = new LoadDriver({
      baseUrl: system.baseUrl,
      workloads,
      workers: 4,
      pauseMs: 20,
      hangLimitMs: HANG_LIMIT_MS,
    });
    const recoveries: { fault: string; ms: number }[] = [];
    const started = Date.now();
    driver.start();
    try {
      await sleep(STEADY_MS);
      const faults: { name: string; allowRefused: boolean; inject: () => Promise<void> }[] = [
        ...APPS.map((app) => ({
          name: `kill -9 ${app}`,
          allowRefused: app === 'gateway',
          inject: () => killAndRestart(app),
        })),
        {
          name: 'NATS stopped',
          allowRefused: false,
          inject: async () => {
            await nats.kill('SIGKILL');
            await sleep(OUTAGE_MS);
            await nats.restart();
          },
        },
        {
          name: 'Postgres restarted',
          allowRefused: false,
          inject: async () => {
            pgsql.stop();
            await sleep(OUTAGE_MS);
            pgsql.start();
          },
        },
      ];
      for (const fault of faults) {
        driver.setPhase({ name: fault.name, allowRefused: fault.allowRefused });
        await fault.inject();
        const restoredAt = Date.now();
        driver.setPhase({ name: `after ${fault.name}`, allowRefused: fault.allowRefused });
        recoveries.push({ fault: fault.name, ms: await driver.waitRecovered(restoredAt, RECOVERY_LIMIT_MS) });
        driver.setPhase({ name: `steady after ${fault.name}`, allowRefused: false });
        await driver.refill();
        await sleep(STEADY_MS);
      }
    } finally {
      await driver.stop();
    }
    const loadSeconds = (Date.now() - started) / 1000;
    const figures = await checkAfterRun(system, ledger);
    printFigures(driver, figures, recoveries, loadSeconds, seeder?.seeded ?? 0);

    expect(driver.violations).toEqual([]);
    expect(driver.total.ok).toBeGreaterThan(100);
    expect(driver.total.failedFast).toBeGreaterThan(0);
    expect(driver.slowestMs).toBeLessThan(HANG_LIMIT_MS);
    expect(figures.lost).toBe(0);
    expect(figures.duplicates).toBe(0);
    expect(figures.revocationsLost).toBe(0);
    expect(figures.tokensAnswered).toBeGreaterThan(0);
    expect(figures.streamMessages).toBe(figures.events);
    expect(figures.streamDuplicates).toBe(0);
    expect(figures.streamMissing).toBe(0);
    expect(figures.streamUnknown).toBe(0);
    expect(Object.keys(figures.projections).length).toBeGreaterThanOrEqual(2);
    for (const [name, verdict] of Object.entries(figures.projections))
      expect(`${name}: ${verdict}`).toMatch(/: EQUAL/);
    expect(figures.revokedChecked).toBeGreaterThan(0);
    expect(figures.revokedActive).toBe(0);
    expect(figures.missingFromTokenState).toBe(0);
    expect(figures.familiesWithTwoLive).toBe(0);
    expect(figures.forkedFamilies).toBe(0);
    // Only the processes this suite killed have exited, each by SIGKILL.
    expect(system.exits.filter((e) => e.signal !== 'SIGKILL')).toEqual([]);
  }, 600000);
});

function printFigures(
  driver: LoadDriver,
  f: Figures,
  recoveries: { fault: string; ms: number }[],
  loadSeconds: number,
  codesSeeded: number,
): void {
  const t = driver.total;
  const lines = [
    '',
    '==================== fault suite figures ====================',
    `workloads run:        ${driver.workloadNames.join(', ')}`,
    `load:                 ${loadSeconds.toFixed(0)} s; slowest answer ${driver.slowestMs} ms`,
    `requests sent:        ${t.sent}`,
    `answered 2xx:         ${t.ok}`,
    `failed fast:          ${t.failedFast} (503 temporarily_unavailable ${t.failedFast - t.refused}, refused while the gateway was down ${t.refused})`,
    `violations:           ${t.violations} (500s, hangs, unexpected answers)`,
    ...[...driver.byWorkload].map(
      ([w, x]) =>
        `  ${w.padEnd(20)} sent ${x.sent}, 2xx ${x.ok}, failed fast ${x.failedFast}, violations ${x.violations}`,
    ),
    "recovery (from the fault's removal: process restarted and ready, server back) to every workload answered 2xx:",
    ...recoveries.map((r) => `  ${r.fault.padEnd(28)} ${r.ms} ms`),
    ...[...driver.byPhase]
      .filter(([p]) => !/^(steady|baseline|after)/.test(p))
      .map(([p, x]) => `  during ${p.padEnd(21)} sent ${x.sent}, 2xx ${x.ok}, failed fast ${x.failedFast}`),
    `tokens answered 200:  ${f.tokensAnswered}; AccessTokenIssued events ${f.issuanceEvents}`,
    `lost:                 ${f.lost} (a 200 with no issuance event)`,
    `duplicates:           ${f.duplicates} (a jti issued twice)`,
    `committed, unanswered: ${f.committedUnanswered} (issued, then the answer was lost to a fault)`,
    `revocations:          ${f.revocationsAnswered} answered 200, ${f.revocationsLost} without an event`,
    `events:               ${f.events} in the store, ${f.streamMessages} in JetStream; duplicates ${f.streamDuplicates}, missing ${f.streamMissing}, unknown ${f.streamUnknown}`,
    ...Object.entries(f.projections).map(([p, v]) => `projection ${p}: ${v}`),
    `revoked tokens:       ${f.revokedChecked} introspected, ${f.revokedActive} active`,
    `token_state:          ${f.missingFromTokenState} token(s) answered 200 missing`,
    `refresh families:     ${f.refreshFamilies} checked, ${f.familiesWithTwoLive} with two live tokens, ${f.forkedFamilies} forked`,
    ...(codesSeeded > 0 ? [`codes seeded:         ${codesSeeded}`] : []),
    ...(driver.violations.length > 0
      ? ['violations:', ...driver.violations.slice(0, 30).map((v) => `  ${v}`)]
      : []),
    '=============================================================',
    '',
  ];
  process.stdout.write(lines.join('\n'));
}
