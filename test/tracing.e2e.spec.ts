import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { basic, postForm, type RunningSystem, startSystem } from './support/system.js';

/**
 * Issue 8, traces: with OTEL_TRACES_EXPORTER=otlp every process exports its spans (OTLP/HTTP JSON,
 * received here by a small collector) and one token request is one trace across
 * gateway → NATS → token → Postgres (the client read into the token service's ClientDirectory, then
 * the append), the context carried in NATS headers (W3C traceparent).
 */
interface ExportedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
}

describe('OpenTelemetry traces across gateway, NATS, services and Postgres (issue 8)', () => {
  let system: RunningSystem;
  let collector: Server;
  const spans: ExportedSpan[] = [];

  beforeAll(async () => {
    collector = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString()) as {
            resourceSpans: {
              resource: { attributes: { key: string; value: { stringValue?: string } }[] };
              scopeSpans: { spans: Omit<ExportedSpan, 'service'>[] }[];
            }[];
          };
          for (const rs of body.resourceSpans) {
            const service =
              rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue ?? '?';
            for (const ss of rs.scopeSpans)
              for (const s of ss.spans)
                spans.push({
                  service,
                  traceId: s.traceId,
                  spanId: s.spanId,
                  parentSpanId: s.parentSpanId || undefined,
                  name: s.name,
                });
          }
        } catch {
          // not JSON: counted as nothing received
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{}');
      });
    });
    await new Promise<void>((r) => collector.listen(0, '127.0.0.1', () => r()));
    const { port } = collector.address() as AddressInfo;
    system = await startSystem({
      env: {
        OTEL_TRACES_EXPORTER: 'otlp',
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `http://127.0.0.1:${port}/v1/traces`,
        OTEL_BSP_SCHEDULE_DELAY: '100',
      },
    });
  }, 90000);

  afterAll(async () => {
    await system?.stop();
    await new Promise((r) => collector?.close(r));
  });

  it("one token request is one trace, continuing the caller's traceparent, with parent links across processes", async () => {
    const client = await system.createClient([
      '--name',
      'traced',
      '--grant',
      'client_credentials',
      '--scope',
      'read',
      '--default-scope',
      'read',
    ]);
    const traceId = randomBytes(16).toString('hex');
    const res = await postForm(
      `${system.baseUrl}/token`,
      { grant_type: 'client_credentials' },
      {
        authorization: basic(client.client_id, client.client_secret),
        traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01`,
      },
    );
    expect(res.status).toBe(200);

    const wanted = [
      ['authz-gateway', 'HTTP POST /token'],
      ['authz-gateway', 'nats request token.grant'],
      ['authz-token', 'nats handle token.grant'],
      ['authz-token', 'event-store read stream'],
      ['authz-token', 'event-store append'],
    ];
    const find = (service: string, name: string) =>
      spans.find((s) => s.traceId.toLowerCase() === traceId && s.service === service && s.name === name);
    const deadline = Date.now() + 15000;
    while (wanted.some(([svc, name]) => !find(svc!, name!)) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
    }
    const got = Object.fromEntries(wanted.map(([svc, name]) => [`${svc} ${name}`, find(svc!, name!)]));
    for (const [key, span] of Object.entries(got))
      expect({ key, found: span !== undefined }).toEqual({ key, found: true });

    const parentOf = (key: string) => got[key]!.parentSpanId;
    expect(parentOf('authz-gateway nats request token.grant')).toBe(
      got['authz-gateway HTTP POST /token']!.spanId,
    );
    expect(parentOf('authz-token nats handle token.grant')).toBe(
      got['authz-gateway nats request token.grant']!.spanId,
    );
    expect(parentOf('authz-token event-store read stream')).toBe(
      got['authz-token nats handle token.grant']!.spanId,
    );
    expect(parentOf('authz-token event-store append')).toBe(
      got['authz-token nats handle token.grant']!.spanId,
    );
  }, 30000);
});
