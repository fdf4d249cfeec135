import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { Controller, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  ClientProxyFactory,
  type ClientNats,
  Ctx,
  MessagePattern,
  type NatsContext,
  Payload,
  Transport,
} from '@nestjs/microservices';
import type { INestMicroservice } from '@nestjs/common';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { loadConfig } from '#lib/config';
import { invalidClient, OAuthError } from '#lib/oauth-errors';
import { CORRELATION_HEADER } from './correlation.js';
import { DrainingServerNats } from './draining-server-nats.js';
import { registry } from './metrics.js';
import { natsConnectionOptions } from './nats-options.js';
import { RpcClient } from './rpc-client.js';
import { OAuthRpcExceptionFilter } from './rpc-exception.filter.js';

// Subjects of this run only: `<prefix>.rpc.<name>`, labelled `rpc.<name>` in the metrics.
const prefix = `rpct${randomBytes(4).toString('hex')}`;
const subject = (name: string) => `${prefix}.rpc.${name}`;

@Controller()
class RpcTestController {
  @MessagePattern(subject('echo'))
  echo(@Payload() data: { context?: { correlationId?: string } }, @Ctx() ctx: NatsContext) {
    return {
      data,
      // What the handler takes for its events and logs: the interceptor settles it in the context.
      correlationId: data.context?.correlationId ?? null,
      header: ctx.getHeaders()?.get(CORRELATION_HEADER) || null,
    };
  }

  @MessagePattern(subject('refuse'))
  refuse(): never {
    throw invalidClient('client authentication failed', {
      status: 401,
      headers: { 'WWW-Authenticate': 'Basic realm="test"' },
    });
  }

  @MessagePattern(subject('crash'))
  crash(): never {
    throw new Error('database password is hunter2');
  }

  @MessagePattern(subject('slow'))
  async slow() {
    await new Promise((r) => setTimeout(r, 1500));
    return { late: true };
  }

  @MessagePattern(subject('nothing'))
  nothing(): void {}
}

@Module({ controllers: [RpcTestController] })
class RpcTestModule {}

const sample = async (name: string, labels: Record<string, string>) => {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  const found = metric?.values.find(
    (v) =>
      (v as { metricName?: string }).metricName !== `${name}_bucket` &&
      (v as { metricName?: string }).metricName !== `${name}_sum` &&
      Object.entries(labels).every(([k, want]) => (v.labels as Record<string, unknown>)[k] === want),
  );
  return found?.value ?? 0;
};

describe('RpcClient: request/reply to a Nest NATS service (issue 9)', () => {
  const config = loadConfig();
  let service: INestMicroservice;
  let proxy: ClientNats;
  let raw: NatsConnection;
  let rpc: RpcClient;

  beforeAll(async () => {
    service = await NestFactory.createMicroservice(RpcTestModule, {
      strategy: new DrainingServerNats(
        { ...natsConnectionOptions(config, 'rpc-test'), queue: `${prefix}-q` },
        1000,
      ),
      logger: false,
    });
    service.useGlobalFilters(new OAuthRpcExceptionFilter());
    await service.listen();
    proxy = ClientProxyFactory.create({
      transport: Transport.NATS,
      options: natsConnectionOptions(config, 'rpc-test-client'),
    }) as ClientNats;
    rpc = new RpcClient(proxy, 300);
    raw = await connect(natsConnectionOptions(config, 'rpc-test-raw'));
  });

  afterAll(async () => {
    await proxy?.close();
    await service?.close();
    await raw?.close();
  });

  it("answers with the handler's result; the work's correlation id travels in the header and is the handler's", async () => {
    const before = await sample('authz_nats_request_duration_seconds', {
      subject: 'rpc.echo',
      outcome: 'ok',
    });
    const answer = await rpc.request<{ data: unknown; correlationId: string; header: string }>(
      subject('echo'),
      { n: 1, context: { correlationId: 'corr-payload' } },
      'corr-work-1',
    );
    expect(answer).toEqual({
      data: { n: 1, context: { correlationId: 'corr-work-1' } },
      correlationId: 'corr-work-1',
      header: 'corr-work-1',
    });
    expect(await sample('authz_nats_request_duration_seconds', { subject: 'rpc.echo', outcome: 'ok' })).toBe(
      before + 1,
    );
  });

  it("without one, the payload context's correlation id travels; a malformed one does not", async () => {
    const fromContext = await rpc.request<{ correlationId: string; header: string | null }>(subject('echo'), {
      context: { correlationId: 'ctx-42' },
    });
    expect(fromContext).toMatchObject({ correlationId: 'ctx-42', header: 'ctx-42' });

    const malformed = await rpc.request<{ correlationId: string; header: string | null }>(subject('echo'), {
      context: { correlationId: 'bad id\r\nX-Injected: 1' },
    });
    expect(malformed.header).toBeNull();
    expect(malformed.correlationId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('an OAuth error answered by the service is rebuilt by its code, status and headers', async () => {
    const err = await rpc.request(subject('refuse'), {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OAuthError);
    expect(err).toMatchObject({
      error: 'invalid_client',
      status: 401,
      headers: { 'WWW-Authenticate': 'Basic realm="test"' },
    });
    expect(
      await sample('authz_nats_request_duration_seconds', { subject: 'rpc.refuse', outcome: 'error' }),
    ).toBe(1);
    // The service counts it under its code.
    expect(
      await sample('authz_nats_requests_handled_total', { subject: 'rpc.refuse', outcome: 'invalid_client' }),
    ).toBe(1);
  });

  it("the service answers Nest's envelope: one packet per request, the value or the wire error, and counts each by outcome", async () => {
    const ask = async (name: string, data: unknown) =>
      (
        await raw.request(
          subject(name),
          JSON.stringify({ pattern: subject(name), data, id: `raw-${name}` }),
          {
            timeout: 1000,
          },
        )
      ).json<unknown>();
    const handled = (name: string, outcome: string) =>
      sample('authz_nats_requests_handled_total', { subject: `rpc.${name}`, outcome });
    const okBefore = await handled('echo', 'ok');
    expect(await ask('echo', { n: 2 })).toEqual({
      id: 'raw-echo',
      response: { data: { n: 2 }, correlationId: null, header: null },
      isDisposed: true,
    });
    expect(await handled('echo', 'ok')).toBe(okBefore + 1);
    expect(await ask('refuse', {})).toEqual({
      id: 'raw-refuse',
      err: {
        error: 'invalid_client',
        error_description: 'client authentication failed',
        status: 401,
        headers: { 'WWW-Authenticate': 'Basic realm="test"' },
      },
      isDisposed: true,
    });
    const crashedBefore = await handled('crash', 'server_error');
    expect(await ask('crash', {})).toMatchObject({
      id: 'raw-crash',
      err: { error: 'server_error', status: 500 },
    });
    expect(await handled('crash', 'server_error')).toBe(crashedBefore + 1);
    // A handler that returns nothing answers no response (the client's "no response").
    expect(await ask('nothing', {})).toEqual({ id: 'raw-nothing', isDisposed: true });
  });

  it('an unexpected failure in the service arrives as server_error, without its message', async () => {
    const err = await rpc.request(subject('crash'), {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OAuthError);
    expect(err).toMatchObject({ error: 'server_error', status: 500 });
    expect(JSON.stringify(err)).not.toContain('hunter2');
  });

  it('no answer within the timeout is temporarily_unavailable, counted as a timeout', async () => {
    const started = Date.now();
    const err = await rpc.request(subject('slow'), {}).catch((e: unknown) => e);
    const waited = Date.now() - started;
    expect(err).toMatchObject({
      error: 'temporarily_unavailable',
      status: 503,
      headers: { 'Retry-After': '5' },
    });
    expect((err as OAuthError).detail).toContain('within 300 ms');
    // Not before the timeout (timers never fire early); that it did not wait for the handler's
    // answer (1.5 s) is what the error and the timeout counter say, whatever the machine's load.
    expect(waited).toBeGreaterThanOrEqual(290);
    expect(await sample('authz_nats_request_timeouts_total', { subject: 'rpc.slow' })).toBe(1);
    expect(
      await sample('authz_nats_request_duration_seconds', { subject: 'rpc.slow', outcome: 'timeout' }),
    ).toBe(1);
  });

  it('no service on the subject is temporarily_unavailable at once, not after the timeout', async () => {
    const err = await rpc.request(subject('nobody'), {}).catch((e: unknown) => e);
    expect(err).toMatchObject({ error: 'temporarily_unavailable', status: 503 });
    // NATS's "no responders" status answered: the wait did not run to the timeout (counted apart).
    expect((err as OAuthError).detail).toContain('no responders');
    expect(await sample('authz_nats_request_timeouts_total', { subject: 'rpc.nobody' })).toBe(0);
    expect(
      await sample('authz_nats_request_duration_seconds', {
        subject: 'rpc.nobody',
        outcome: 'unavailable',
      }),
    ).toBe(1);
  });

  it('a handler that answers nothing, or no connection, is temporarily_unavailable', async () => {
    await expect(rpc.request(subject('nothing'), {})).rejects.toMatchObject({
      error: 'temporarily_unavailable',
    });
    const down = new RpcClient({ connect: () => Promise.reject(new Error('connection lost')) }, 300);
    const err = await down.request(subject('echo'), {}).catch((e: unknown) => e);
    expect(err).toMatchObject({ error: 'temporarily_unavailable' });
    expect((err as OAuthError).detail).toContain('connection lost');
    const hanging = new RpcClient({ connect: () => new Promise<NatsConnection>(() => undefined) }, 100);
    await expect(hanging.request(subject('echo'), {})).rejects.toMatchObject({
      error: 'temporarily_unavailable',
      detail: expect.stringContaining('within 100 ms'),
    });
  });

  it("speaks Nest's NATS envelope: {pattern, data, id} out, {id, response} or a foreign body back", async () => {
    const seen: { body: unknown; header: string | undefined }[] = [];
    const sub = raw.subscribe(subject('raw'), {
      callback: (_err, msg) => {
        const body = msg.json<{ id: string; data: { foreign?: boolean } }>();
        seen.push({ body, header: msg.headers?.get(CORRELATION_HEADER) });
        msg.respond(
          JSON.stringify(
            body.data.foreign ? { answer: 42 } : { id: body.id, response: { ok: true }, isDisposed: true },
          ),
        );
      },
    });
    await raw.flush();
    try {
      await expect(rpc.request(subject('raw'), { foreign: false }, 'corr-raw')).resolves.toEqual({
        ok: true,
      });
      await expect(rpc.request(subject('raw'), { foreign: true })).resolves.toEqual({ answer: 42 });
      expect(seen[0]!.header).toBe('corr-raw');
      expect(seen[0]!.body).toEqual({
        pattern: subject('raw'),
        data: { foreign: false },
        id: expect.any(String),
      });
      expect((seen[0]!.body as { id: string }).id).not.toBe((seen[1]!.body as { id: string }).id);
    } finally {
      sub.unsubscribe();
    }
  });
});
