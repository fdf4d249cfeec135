import { randomBytes } from 'node:crypto';
import { headers as natsHeaders, type Msg, type MsgHdrs, type NatsConnection } from '@nats-io/transport-node';
import { createInboxOf } from '#lib/event-store';
import { fromWire, temporarilyUnavailable } from '#lib/oauth-errors';
import { acceptCorrelationId, CORRELATION_HEADER, correlationIdOf } from './correlation.js';
import { describeError } from './describe-error.js';
import { metrics, subjectLabel, useMetrics } from './metrics.js';
import { publishSoon } from './publish-batch.js';
import { injectTraceContext, inSpan, SpanKind, tracingEnabled } from './tracing.js';

/**
 * Where the connection comes from: Nest's ClientNats (the module's SERVICES_PROXY). Asked on every
 * request, so that a request made while NATS is away fails at once, as it did through the proxy.
 */
export interface NatsConnector {
  connect(): Promise<NatsConnection>;
}

/** The envelope of Nest's NATS transport, both ways (ServerNats answers the services' handlers). */
interface RequestPacket {
  pattern: string;
  data: unknown;
  id: string;
}
interface ReplyPacket {
  id?: string;
  response?: unknown;
  err?: unknown;
  isDisposed?: boolean;
  status?: string;
}
const REPLY_KEYS = new Set(['id', 'err', 'response', 'isDisposed', 'status']);

class NoAnswer extends Error {}

/**
 * The replies of one connection: one subscription on `<inbox>.*`, each request told apart by the
 * last token of its reply subject (what nats.js's `request` does, without its per-request Error,
 * race and second timer).
 */
class ReplyInbox {
  readonly prefix: string;
  private readonly waiting = new Map<string, (msg: Msg) => void>();

  constructor(readonly connection: NatsConnection) {
    this.prefix = `${createInboxOf(connection)}.`;
    connection.subscribe(`${this.prefix}*`, {
      callback: (_err, msg) => {
        const token = typeof msg?.subject === 'string' ? msg.subject.slice(this.prefix.length) : '';
        const deliver = this.waiting.get(token);
        if (!deliver) return;
        this.waiting.delete(token);
        deliver(msg);
      },
    });
  }

  expect(token: string, deliver: (msg: Msg) => void): void {
    this.waiting.set(token, deliver);
  }

  forget(token: string): void {
    this.waiting.delete(token);
  }
}

/**
 * Request/reply to a service with a bounded wait. Whatever goes wrong on the way (no service,
 * NATS down, no answer in time) becomes temporarily_unavailable (RFC 6749 §4.1.2.1, §5.2 by
 * analogy); an OAuth error answered by the service is rebuilt by its code.
 * The correlation id of the work in progress (or of the payload's context) travels in the
 * X-Correlation-Id header.
 *
 * On the wire this is Nest's NATS transport (`{pattern, data, id}` out, `{id, response | err,
 * isDisposed}` back, read by ServerNats), the replies received on one subscription per connection
 * rather than a subscription per request.
 */
export class RpcClient {
  private readonly idPrefix = randomBytes(8).toString('hex');
  private sequence = 0;
  private inbox: ReplyInbox | undefined;

  constructor(
    private readonly nats: NatsConnector,
    private readonly timeoutMs: number,
  ) {
    useMetrics('natsRequestDuration', 'natsRequestTimeouts');
  }

  /**
   * `correlationId` is the work's (the gateway's request id, the handled request's); without it
   * the payload's `context.correlationId` travels, if well formed.
   */
  request<Result>(subject: string, payload: unknown, correlationId?: string): Promise<Result> {
    const label = subjectLabel(subject);
    correlationId = acceptCorrelationId(correlationId) ?? correlationIdOf(payload);
    if (!tracingEnabled()) return this.exchange<Result>(subject, label, payload, correlationId);
    return inSpan(
      `nats request ${label}`,
      {
        kind: SpanKind.CLIENT,
        attributes: { 'messaging.system': 'nats', 'messaging.destination.name': label },
      },
      () => this.exchange<Result>(subject, label, payload, correlationId),
    );
  }

  private async exchange<Result>(
    subject: string,
    label: string,
    payload: unknown,
    correlationId: string | undefined,
  ): Promise<Result> {
    const started = process.hrtime.bigint();
    const observe = (outcome: string) =>
      metrics.natsRequestDuration.observe(
        { subject: label, outcome },
        Number(process.hrtime.bigint() - started) / 1e9,
      );
    let reply: ReplyPacket;
    try {
      if (payload === undefined || payload === null) throw new Error('no payload');
      const h = natsHeaders();
      if (correlationId) h.set(CORRELATION_HEADER, correlationId);
      if (tracingEnabled()) injectTraceContext(h);
      const id = this.nextId();
      const packet: RequestPacket = { pattern: subject, data: payload, id };
      reply = readReply(await this.send(subject, id, JSON.stringify(packet), h));
    } catch (err) {
      if (err instanceof NoAnswer) {
        observe('timeout');
        metrics.natsRequestTimeouts.inc({ subject: label });
        throw temporarilyUnavailable(`no answer on ${subject} within ${this.timeoutMs} ms`);
      }
      observe('unavailable');
      throw temporarilyUnavailable(`request on ${subject} failed: ${describeError(err)}`, err);
    }
    if (reply.err) {
      const oauth = fromWire(reply.err);
      if (oauth) {
        observe('error');
        answeredErrors.add(oauth);
        throw oauth;
      }
      observe('unavailable');
      throw temporarilyUnavailable(`request on ${subject} failed: ${describeError(reply.err)}`, reply.err);
    }
    if (reply.response === undefined) {
      // A handler that answered nothing: the proxy reported "no elements in sequence".
      observe('unavailable');
      throw temporarilyUnavailable(`request on ${subject} failed: no response`);
    }
    observe('ok');
    return reply.response as Result;
  }

  /** One wait bounds the whole exchange, the connection included. */
  private send(subject: string, token: string, body: string, h: MsgHdrs): Promise<Msg> {
    return new Promise<Msg>((resolve, reject) => {
      let inbox: ReplyInbox | undefined;
      let settled = false;
      const settle = (fn: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        inbox?.forget(token);
        fn();
      };
      const timer = setTimeout(() => settle(() => reject(new NoAnswer())), this.timeoutMs);
      this.nats.connect().then(
        (nc) => {
          if (settled) return;
          publishSoon(() => {
            if (settled) return;
            try {
              inbox = this.inboxOf(nc);
              inbox.expect(token, (msg) => settle(() => resolve(msg)));
              nc.publish(subject, body, { reply: inbox.prefix + token, headers: h });
            } catch (err) {
              settle(() => reject(err));
            }
          });
        },
        (err: unknown) => settle(() => reject(err)),
      );
    });
  }

  private inboxOf(nc: NatsConnection): ReplyInbox {
    if (this.inbox?.connection !== nc) this.inbox = new ReplyInbox(nc);
    return this.inbox;
  }

  private nextId(): string {
    this.sequence = (this.sequence + 1) % Number.MAX_SAFE_INTEGER;
    return this.idPrefix + this.sequence.toString(36);
  }
}

/** A reply as Nest's NatsResponseJSONDeserializer reads it: a foreign body is the response itself. */
function readReply(msg: Msg): ReplyPacket {
  if (msg.data.length === 0) {
    throw new Error(msg.headers?.code === 503 ? 'no responders' : 'empty response');
  }
  const value: unknown = msg.json();
  if (typeof value === 'object' && value !== null) {
    const keys = Object.keys(value);
    if (keys.length > 0 && keys.every((k) => REPLY_KEYS.has(k))) return value as ReplyPacket;
  }
  return { response: value, isDisposed: true };
}

const answeredErrors = new WeakSet<object>();

/** True for an OAuth error a service answered (it logged it), false for one raised in this process. */
export function answeredByService(err: unknown): boolean {
  return typeof err === 'object' && err !== null && answeredErrors.has(err);
}
