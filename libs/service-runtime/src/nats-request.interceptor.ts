import {
  type CallHandler,
  type ExecutionContext,
  Injectable,
  Logger,
  type NestInterceptor,
} from '@nestjs/common';
import type { NatsContext } from '@nestjs/microservices';
import { OAuthError } from '#lib/oauth-errors';
import { Observable, type Subscriber } from 'rxjs';
import { acceptCorrelationId, CORRELATION_HEADER, newCorrelationId } from './correlation.js';
import { metrics, subjectLabel } from './metrics.js';
import { asOAuthError } from './transient-errors.js';
import {
  context as otelContext,
  extractTraceContext,
  SpanKind,
  trace,
  tracer,
  tracingEnabled,
} from './tracing.js';
import { SpanStatusCode } from '@opentelemetry/api';

/**
 * Around every NATS request a service handles: settles the caller's correlation id (header first,
 * then the payload's context, else a new one) and writes it into the payload's `context`, where
 * the handler takes it for its events, its logs and its own requests; records the outcome and
 * latency; logs one line per request (subject, outcome, duration, correlation id; never the payload).
 */
@Injectable()
export class NatsRequestInterceptor implements NestInterceptor {
  private readonly logger = new Logger('Nats');

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'rpc') return next.handle();
    const rpc = context.switchToRpc();
    const nats = rpc.getContext<NatsContext>();
    const data = rpc.getData<{ context?: { correlationId?: unknown } } | undefined>();
    const correlationId =
      acceptCorrelationId(nats.getHeaders?.()?.get(CORRELATION_HEADER)) ??
      acceptCorrelationId(data?.context?.correlationId) ??
      newCorrelationId();
    if (typeof data?.context === 'object' && data.context !== null)
      data.context.correlationId = correlationId;
    const subject = subjectLabel(nats.getSubject());
    const parent = tracingEnabled() ? extractTraceContext(nats.getHeaders?.()) : undefined;
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
    const handle = (subscriber: Subscriber<unknown>) => {
      const started = process.hrtime.bigint();
      let settled = false;
      const settle = (outcome: string) => {
        if (settled) return;
        settled = true;
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        metrics.natsHandled.inc({ subject, outcome });
        metrics.natsHandleDuration.observe({ subject }, seconds);
        this.logger.log({
          msg: 'nats request handled',
          subject,
          outcome,
          durationMs: Math.round(seconds * 1000),
          correlationId,
        });
        if (span) {
          span.setAttribute('authz.outcome', outcome);
          if (outcome === 'server_error' || outcome === 'temporarily_unavailable')
            span.setStatus({ code: SpanStatusCode.ERROR });
          span.end();
        }
      };
      const subscription = next.handle().subscribe({
        next: (value) => subscriber.next(value),
        error: (err: unknown) => {
          const e = asOAuthError(err);
          settle(e instanceof OAuthError ? e.error : 'server_error');
          subscriber.error(err);
        },
        complete: () => {
          settle('ok');
          subscriber.complete();
        },
      });
      return () => {
        subscription.unsubscribe();
        settle('cancelled');
      };
    };
    return new Observable((subscriber) =>
      parent && span
        ? otelContext.with(trace.setSpan(parent, span), () => handle(subscriber))
        : handle(subscriber),
    );
  }
}
