import { type ClientProxy, NatsRecordBuilder } from '@nestjs/microservices';
import { headers as natsHeaders } from '@nats-io/transport-node';
import { fromWire, OAuthError, temporarilyUnavailable } from '#lib/oauth-errors';
import { lastValueFrom, timeout, TimeoutError } from 'rxjs';
import { acceptCorrelationId, CORRELATION_HEADER, currentCorrelationId } from './correlation.js';
import { metrics, subjectLabel } from './metrics.js';
import { injectTraceContext, inSpan, SpanKind } from './tracing.js';

/**
 * Request/reply to a service with a bounded wait. Whatever goes wrong on the way (no service,
 * NATS down, no answer in time) becomes temporarily_unavailable (RFC 6749 §4.1.2.1, §5.2 by
 * analogy; checklist ES-04); an OAuth error answered by the service is rebuilt by its code.
 * The correlation id of the work in progress (or of the payload's context) travels in the
 * X-Correlation-Id header.
 */
export class RpcClient {
  constructor(
    private readonly proxy: ClientProxy,
    private readonly timeoutMs: number,
  ) {}

  async request<Result>(subject: string, payload: unknown): Promise<Result> {
    const label = subjectLabel(subject);
    const started = process.hrtime.bigint();
    const observe = (outcome: string) =>
      metrics.natsRequestDuration.observe(
        { subject: label, outcome },
        Number(process.hrtime.bigint() - started) / 1e9,
      );
    const correlationId =
      currentCorrelationId() ??
      acceptCorrelationId(
        (payload as { context?: { correlationId?: unknown } } | null)?.context?.correlationId,
      );
    return inSpan(
      `nats request ${label}`,
      {
        kind: SpanKind.CLIENT,
        attributes: { 'messaging.system': 'nats', 'messaging.destination.name': label },
      },
      async () => {
        const h = natsHeaders();
        if (correlationId) h.set(CORRELATION_HEADER, correlationId);
        injectTraceContext(h);
        const message = new NatsRecordBuilder(payload).setHeaders(h).build();
        return this.send<Result>(subject, message, label, observe);
      },
    );
  }

  private async send<Result>(
    subject: string,
    message: unknown,
    label: string,
    observe: (outcome: string) => void,
  ): Promise<Result> {
    try {
      const result = await lastValueFrom(
        this.proxy.send<Result>(subject, message).pipe(timeout(this.timeoutMs)),
      );
      observe('ok');
      return result;
    } catch (err) {
      if (err instanceof OAuthError) {
        observe('error');
        throw err;
      }
      const oauth = fromWire(err);
      if (oauth) {
        observe('error');
        throw oauth;
      }
      if (err instanceof TimeoutError) {
        observe('timeout');
        metrics.natsRequestTimeouts.inc({ subject: label });
        throw temporarilyUnavailable(`no answer on ${subject} within ${this.timeoutMs} ms`);
      }
      observe('unavailable');
      throw temporarilyUnavailable(`request on ${subject} failed: ${describe(err)}`, err);
    }
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === 'object' && err !== null) return JSON.stringify(err).slice(0, 200);
  return String(err);
}
