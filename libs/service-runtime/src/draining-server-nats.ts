import { Logger } from '@nestjs/common';
import { NatsContext, ServerNats } from '@nestjs/microservices';
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import { SpanStatusCode } from '@opentelemetry/api';
import { isObservable } from 'rxjs';
import { acceptCorrelationId, CORRELATION_HEADER, newCorrelationId } from './correlation.js';
import { inFlight } from './in-flight.js';
import { metrics, subjectLabel, useMetrics } from './metrics.js';
import { publishSoon } from './publish-batch.js';
import {
  context as otelContext,
  extractTraceContext,
  SpanKind,
  stopTracing,
  trace,
  tracer,
  tracingEnabled,
} from './tracing.js';

type Packet = { id?: string; response?: unknown; err?: unknown; isDisposed?: boolean; status?: string };
type Publish = (packet: Packet) => void;

/** Nest's answer when no handler matches the subject (its NO_MESSAGE_HANDLER text). */
const NO_MESSAGE_HANDLER = 'There is no matching message handler defined in the remote service.';

/** A request this process is handling: in flight until its last packet is published. */
interface Handling {
  /** Called once the last packet is published (or the request ends without a reply). */
  end: () => void;
  /** Called with each packet as it is handed to NATS. */
  settle?: (packet: Packet) => void;
}

/**
 * The services' NATS transport: Nest's ServerNats, with the request's life handled here instead of
 * in an interceptor, and a graceful close on SIGTERM (in-flight requests finish).
 *
 * Around every request: the caller's correlation id is settled (header first, then the payload's
 * `context`, else a new one) and written into the payload's `context`, where the handler takes it
 * for its events, logs and own requests; outcome and latency are recorded and one line is logged
 * (subject, outcome, duration, correlation id; never the payload). A handler's value is answered as
 * one packet `{ id, response, isDisposed }`, as Nest's `send` would; an Observable (the exception
 * filter's error, a stream) goes through Nest's `send`. Without an interceptor Nest calls the
 * controller straight away: no rxjs pipeline per request (docs/performance.md).
 *
 * A request counts as in flight from the moment its message is dispatched to this process until
 * its last reply packet is published. On close the service's subscriptions are drained first (the
 * server stops routing new requests to this replica; those already delivered are still handled),
 * then the close waits until nothing is in flight (at most `shutdownTimeoutMs`), and only then
 * drains and closes the connection. Nest closes the database and the other connections after this
 * returns.
 */
export class DrainingServerNats extends ServerNats {
  private readonly shutdownLogger = new Logger('Shutdown');
  private readonly requestLogger = new Logger('Nats');
  private readonly handling = new WeakMap<Msg, Handling>();

  constructor(
    options: ConstructorParameters<typeof ServerNats>[0],
    private readonly shutdownTimeoutMs: number,
  ) {
    super(options);
    useMetrics('natsHandled', 'natsHandleDuration');
  }

  override async handleMessage(channel: string, natsMsg: Msg): Promise<unknown> {
    let ended = false;
    const handling: Handling = {
      end: () => {
        if (ended) return;
        ended = true;
        inFlight.end();
      },
    };
    inFlight.begin();
    this.handling.set(natsMsg, handling);
    try {
      const message = (await this.deserializer.deserialize(natsMsg, { channel, replyTo: natsMsg.reply })) as {
        id?: string;
        data?: { context?: { correlationId?: unknown } };
      };
      const natsCtx = new NatsContext([natsMsg.subject, natsMsg.headers]);
      if (message.id === undefined) {
        handling.end();
        return await this.handleEvent(channel, message as never, natsCtx);
      }
      const publish = this.getPublisher(natsMsg, message.id, natsCtx) as Publish;
      const handler = this.getHandlerByPattern(channel);
      if (!handler) {
        publish({ id: message.id, status: 'error', err: NO_MESSAGE_HANDLER });
        return;
      }
      const run = this.begin(natsMsg, message.data, handling);
      const result: unknown = await run(() => handler(message.data, natsCtx));
      if (isObservable(result)) this.send(result, publish as never);
      else publish({ response: result, isDisposed: true });
    } catch (err) {
      handling.end();
      throw err;
    }
  }

  /**
   * Settles the correlation id, opens the span (tracing on), and arranges the request's metrics and
   * log line for when its last packet is published. Returns how to run the handler (in the span).
   */
  private begin(
    natsMsg: Msg,
    data: { context?: { correlationId?: unknown; callerRequestId?: unknown } } | undefined,
    handling: Handling,
  ): <T>(work: () => T) => T {
    const headers = natsMsg.headers;
    const correlationId =
      acceptCorrelationId(headers?.get(CORRELATION_HEADER)) ??
      acceptCorrelationId(data?.context?.correlationId) ??
      newCorrelationId();
    // The caller's own request id rides in the context, untrusted: kept only when well-formed.
    const callerRequestId = acceptCorrelationId(data?.context?.callerRequestId);
    if (typeof data?.context === 'object' && data.context !== null) {
      data.context.correlationId = correlationId;
      if (callerRequestId === undefined) delete data.context.callerRequestId;
    }
    const subject = subjectLabel(natsMsg.subject);
    const parent = tracingEnabled() ? extractTraceContext(headers) : undefined;
    const span = parent
      ? tracer().startSpan(
          `nats handle ${subject}`,
          {
            kind: SpanKind.SERVER,
            attributes: {
              'messaging.system': 'nats',
              'messaging.destination.name': subject,
              'authz.correlation_id': correlationId,
            },
          },
          parent,
        )
      : undefined;
    const started = process.hrtime.bigint();
    let outcome: string | undefined;
    handling.settle = (packet) => {
      if (packet.err !== undefined) outcome ??= errorCodeOf(packet.err);
      if (!(packet.isDisposed || packet.err !== undefined)) return;
      outcome ??= 'ok';
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics.natsHandled.inc({ subject, outcome });
      metrics.natsHandleDuration.observe({ subject }, seconds);
      this.requestLogger.log({
        msg: 'nats request handled',
        subject,
        outcome,
        durationMs: Math.round(seconds * 1000),
        correlationId,
        ...(callerRequestId ? { callerRequestId } : {}),
      });
      if (span) {
        span.setAttribute('authz.outcome', outcome);
        if (outcome === 'server_error' || outcome === 'temporarily_unavailable')
          span.setStatus({ code: SpanStatusCode.ERROR });
        span.end();
      }
    };
    return parent && span ? (work) => otelContext.with(trace.setSpan(parent, span), work) : (work) => work();
  }

  // The channel is a subscribed subject, already a route: no JSON.parse attempt (and the exception
  // it throws for a subject) per message.
  override getHandlerByPattern(pattern: string) {
    return this.messageHandlers.get(pattern) ?? super.getHandlerByPattern(pattern);
  }

  override getPublisher(natsMsg: Msg, id: string, ctx: Parameters<ServerNats['getPublisher']>[2]) {
    const publish = super.getPublisher(natsMsg, id, ctx);
    const handling = this.handling.get(natsMsg);
    return (packet: Packet) => {
      // The last packet of a reply is marked isDisposed; an error (or "no handler") is final too.
      const last = packet.isDisposed || packet.err !== undefined;
      publishSoon(() => {
        try {
          publish(packet as never);
        } catch (err) {
          this.logger.error(err);
        } finally {
          handling?.settle?.(packet);
          if (last) handling?.end();
        }
      });
    };
  }

  override async close(): Promise<void> {
    const self = this as unknown as { natsClient: NatsConnection | null; subscriptions: Subscription[] };
    const nc = self.natsClient;
    if (!nc) return super.close();
    inFlight.draining = true;
    this.shutdownLogger.log({ msg: 'draining NATS subscriptions', inFlight: inFlight.size });
    await Promise.all(self.subscriptions.map((s) => s.drain().catch(() => undefined)));
    const idle = await inFlight.idle(this.shutdownTimeoutMs);
    if (!idle) {
      this.shutdownLogger.warn({
        msg: 'shutdown timeout: requests still in flight',
        inFlight: inFlight.size,
      });
    }
    await nc.drain().catch(() => undefined);
    self.subscriptions = [];
    await super.close();
    await stopTracing();
  }
}

/** The OAuth error code of an error packet (toWire's `error`), else server_error. */
function errorCodeOf(err: unknown): string {
  const code = (err as { error?: unknown } | null)?.error;
  return typeof code === 'string' ? code : 'server_error';
}
