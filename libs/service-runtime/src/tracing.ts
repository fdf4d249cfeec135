import {
  type Context,
  context,
  propagation,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';

/**
 * OpenTelemetry traces: spans across gateway → NATS → service → Postgres, the context
 * carried in NATS headers (W3C traceparent). Off by default: without OTEL_TRACES_EXPORTER the
 * SDK is not even loaded and every call below is the API's no-op.
 */
const authzTracer = trace.getTracer('authz-server');
// The API's proxy tracer: it delegates to the SDK's once startTracing has registered one.
export const tracer = () => authzTracer;

export interface TracingConfig {
  /** OTEL_TRACES_EXPORTER: `none` (default), `otlp` (OTLP/HTTP, OTEL_EXPORTER_OTLP_* settings) or `console`. */
  tracesExporter: 'none' | 'otlp' | 'console';
}

let shutdown: (() => Promise<void>) | undefined;

export async function startTracing(service: string, config: TracingConfig): Promise<void> {
  if (config.tracesExporter === 'none' || shutdown) return;
  const [{ NodeTracerProvider }, { BatchSpanProcessor, ConsoleSpanExporter }, { resourceFromAttributes }] =
    await Promise.all([
      import('@opentelemetry/sdk-trace-node'),
      import('@opentelemetry/sdk-trace-base'),
      import('@opentelemetry/resources'),
    ]);
  const exporter =
    config.tracesExporter === 'otlp'
      ? new (await import('@opentelemetry/exporter-trace-otlp-http')).OTLPTraceExporter()
      : new ConsoleSpanExporter();
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': `authz-${service}` }),
    spanProcessors: [new BatchSpanProcessor(exporter)],
  });
  // Registers the AsyncLocalStorage context manager and the W3C trace-context propagator.
  provider.register();
  shutdown = () => provider.shutdown();
}

/** False when OTEL_TRACES_EXPORTER is `none`: no span is recorded and no context is propagated. */
export function tracingEnabled(): boolean {
  return shutdown !== undefined;
}

/** Flushes and stops the exporter (graceful shutdown). */
export async function stopTracing(): Promise<void> {
  await shutdown?.().catch(() => undefined);
  shutdown = undefined;
}

/** NATS headers (or any get/set carrier) as a propagation carrier. */
interface HeaderCarrier {
  get(k: string): string;
  set(k: string, v: string): void;
  has(k: string): boolean;
}

export function injectTraceContext(headers: HeaderCarrier, ctx: Context = context.active()): void {
  propagation.inject(ctx, headers, { set: (h, k, v) => h.set(k, v) });
}

export function extractTraceContext(headers: HeaderCarrier | undefined): Context {
  if (!headers) return context.active();
  return propagation.extract(context.active(), headers, {
    get: (h, k) => (h.has(k) ? h.get(k) : undefined),
    keys: () => [],
  });
}

/** Runs `work` in a span that ends (with the error recorded) when it settles. */
export async function inSpan<T>(
  name: string,
  options: { kind?: SpanKind; attributes?: Record<string, string | number>; parent?: Context },
  work: (span: Span) => Promise<T>,
): Promise<T> {
  const parent = options.parent ?? context.active();
  const span = tracer().startSpan(
    name,
    { kind: options.kind ?? SpanKind.INTERNAL, attributes: options.attributes },
    parent,
  );
  try {
    return await context.with(trace.setSpan(parent, span), () => work(span));
  } catch (err) {
    span.recordException(err as Error);
    span.setStatus({ code: SpanStatusCode.ERROR });
    throw err;
  } finally {
    span.end();
  }
}

export { context, SpanKind, trace };
