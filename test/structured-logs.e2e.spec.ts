import { randomBytes } from 'node:crypto';
import { basic, postForm, type RunningSystem, startSystem } from './support/system.js';

/**
 * Issue 23, logs through nestjs-pino: every line of every process is JSON (stdout and stderr, no
 * `[Nest]` line), the listeners' request lines (pino-http) name the request and never carry what
 * credentials travel in, and a client authentication refused anywhere is a warn line with the
 * client id and a reason.
 */
function parsed(lines: string[]): Record<string, unknown>[] {
  return lines.map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('structured logs (issue 23)', () => {
  let system: RunningSystem;
  let client: { client_id: string; client_secret: string };
  const secret = (label: string) => `${label}-${randomBytes(12).toString('hex')}`;

  beforeAll(async () => {
    system = await startSystem({ env: { LOG_LEVEL: 'log' } });
    client = await system.createClient([
      '--name',
      'logs',
      '--grant',
      'client_credentials',
      '--scope',
      'read',
    ]);
  }, 90000);

  afterAll(async () => {
    await system?.stop();
  });

  it('logs a refused client authentication at warn with client id and reason, in the service or at the gateway, never the secret', async () => {
    const wrong = secret('wrong');
    const inService = await postForm(
      `${system.baseUrl}/token`,
      { grant_type: 'client_credentials' },
      { authorization: basic(client.client_id, wrong) },
    );
    expect(inService.status).toBe(401);
    const bearer = secret('bearer');
    const atGateway = await postForm(
      `${system.baseUrl}/token`,
      { grant_type: 'client_credentials', client_id: client.client_id },
      { authorization: `Bearer ${bearer}` },
    );
    expect(atGateway.status).toBe(401);
    await system.logBarrier();

    const failures = (app: string, res: Response) =>
      parsed(system.lines.get(app)!).filter(
        (l) =>
          l.correlationId === res.headers.get('x-correlation-id') && l.msg === 'client authentication failed',
      );
    expect(failures('token', inService)).toEqual([
      expect.objectContaining({ level: 'warn', client_id: client.client_id, reason: 'wrong_secret' }),
    ]);
    expect(failures('gateway', atGateway)).toEqual([
      expect.objectContaining({
        level: 'warn',
        client_id: client.client_id,
        reason: 'unsupported_authentication_scheme',
      }),
    ]);
    // The service's refusal is logged once, where it was decided, not again by the gateway.
    expect(failures('gateway', inService)).toEqual([]);
    const everything = [...system.lines.values()].flat().join('\n') + system.output.join('');
    for (const s of [wrong, bearer]) expect(everything).not.toContain(s);
  });

  it('logs each request as one pino-http line without query, headers, cookies or form fields', async () => {
    const code = secret('code');
    const cookie = secret('cookie');
    const refresh = secret('refresh');
    const password = secret('password');
    const res = await postForm(
      `${system.baseUrl}/token?code=${code}`,
      { grant_type: 'refresh_token', refresh_token: refresh, password, client_secret: password },
      { authorization: basic(client.client_id, client.client_secret), cookie: `session=${cookie}` },
    );
    expect(res.status).toBeGreaterThanOrEqual(400);
    await system.logBarrier();
    const lines = parsed(system.lines.get('gateway')!).filter(
      (l) => l.correlationId === res.headers.get('x-correlation-id') && l.msg === 'http request',
    );
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'info',
        method: 'POST',
        route: '/token',
        status: res.status,
        grantType: 'refresh_token',
        durationMs: expect.any(Number),
      }),
    ]);
    expect(lines[0]).not.toHaveProperty('req');
    const everything = [...system.lines.values()].flat().join('\n') + system.output.join('');
    for (const s of [code, cookie, refresh, password, client.client_secret])
      expect(everything).not.toContain(s);
  });

  it('writes only JSON lines, on stdout and stderr, in every process', async () => {
    await system.logBarrier();
    for (const [app, lines] of system.lines) {
      const notJson = lines.filter((l) => {
        try {
          return typeof JSON.parse(l) !== 'object';
        } catch {
          return true;
        }
      });
      expect([app, notJson]).toEqual([app, []]);
    }
    // stderr is in `output` too: no Nest console line ("[Nest] 123  - ... LOG [NestFactory]").
    expect(system.output.join('')).not.toMatch(/\[Nest\]/);
    expect(system.output.join('')).not.toContain(String.fromCharCode(27));
  });
});
