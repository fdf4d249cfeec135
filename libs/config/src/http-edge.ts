import { z } from 'zod';
import { int, ISSUER, problem, settings } from './env.js';

export const issuerSettings = settings({
  /**
   * ISSUER: the issuer identifier (RFC 8414 §2): the public origin of the gateway, no query or
   * fragment. Default http://127.0.0.1:8080 (use https in production; RFC 8414 §2 requires it).
   */
  issuer: ISSUER,
});

export type IssuerConfig = z.output<typeof issuerSettings>;

/** JWKS_MAX_AGE_SECONDS: Cache-Control max-age of the JWKS document. Default 300. */
export const JWKS_MAX_AGE_SECONDS = ['JWKS_MAX_AGE_SECONDS', int(0, 86400).default(300)] as const;

const TRUST_PROXY_TRUE =
  'TRUST_PROXY=true would trust every X-Forwarded-For hop, so a client could choose its own ' +
  'address: set the number of proxies in front (e.g. 1) or their addresses (CIDRs)';

/**
 * TRUST_PROXY: the proxies in front of the listener whose X-Forwarded-For entries count: a hop
 * count (`1`: the address the nearest proxy saw) or a comma-separated list of proxy addresses and
 * CIDRs. Unset: none (the socket's address). `true` (every hop) is refused: a client could then
 * choose its own address.
 */
const trustProxy = z
  .string()
  .refine((s) => s !== 'true', TRUST_PROXY_TRUE)
  .transform((raw, ctx): number | string[] | false => {
    if (raw === 'false' || raw === '0') return false;
    if (/^\d+$/.test(raw)) {
      if (Number(raw) > 10)
        ctx.addIssue({ code: 'custom', message: 'must be a hop count from 0 to 10, or addresses' });
      return Number(raw);
    }
    const entries = raw
      .split(',')
      .map((e) => e.trim())
      .filter(Boolean);
    for (const e of entries.filter((e) => !/^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(e)))
      ctx.addIssue({ code: 'custom', message: `must be a hop count or IP addresses/CIDRs, got "${e}"` });
    return entries;
  })
  .default(false);

/** The settings of the gateway's and the admin plane's listeners. */
export const httpSettings = settings({
  /** HTTP_HOST / HTTP_PORT: where the gateway listens. Default 127.0.0.1:8080. */
  httpHost: ['HTTP_HOST', z.string().default('127.0.0.1')],
  httpPort: ['HTTP_PORT', int(0, 65535).default(8080)],
  /**
   * ADMIN_HTTP_HOST / ADMIN_HTTP_PORT: where the admin plane listens. Default 127.0.0.1:8070. In
   * Kubernetes it is reached through its own internal Service, never through the public Ingress.
   */
  adminHttpHost: ['ADMIN_HTTP_HOST', z.string().default('127.0.0.1')],
  adminHttpPort: ['ADMIN_HTTP_PORT', int(0, 65535).default(8070)],
  /**
   * HTTP_REQUEST_TIMEOUT_MS: the longest a client may take to send a whole request, headers and
   * body; past it the connection is closed (slow-body attacks). Default 30000.
   */
  httpRequestTimeoutMs: ['HTTP_REQUEST_TIMEOUT_MS', int(1000, 600000).default(30000)],
  /** HTTP_HEADERS_TIMEOUT_MS: the longest a client may take to send the headers. Default 10000. */
  httpHeadersTimeoutMs: ['HTTP_HEADERS_TIMEOUT_MS', int(1000, 600000).default(10000)],
  /** HTTP_KEEP_ALIVE_TIMEOUT_MS: how long an idle keep-alive connection stays open. Default 5000. */
  httpKeepAliveTimeoutMs: ['HTTP_KEEP_ALIVE_TIMEOUT_MS', int(1000, 600000).default(5000)],
  trustProxy: ['TRUST_PROXY', trustProxy],
  /** MAX_BODY_BYTES: largest request body accepted (larger: 413, RFC 9110 §15.5.14). Default 65536. */
  maxBodyBytes: ['MAX_BODY_BYTES', int(1024, 10 * 1024 * 1024).default(65536)],
  /** MAX_PARAMETERS: most form or query parameters in one request (bounds the parsing). Default 100. */
  maxParameters: ['MAX_PARAMETERS', int(10, 10000).default(100)],
  jwksMaxAgeSeconds: JWKS_MAX_AGE_SECONDS,
}).superRefine((http, ctx) => {
  if (http.httpHeadersTimeoutMs > http.httpRequestTimeoutMs)
    problem(ctx, 'HTTP_HEADERS_TIMEOUT_MS', 'must not exceed HTTP_REQUEST_TIMEOUT_MS');
});

type HttpSettings = z.output<typeof httpSettings>;

/** What every HTTP listener (the public gateway and the admin plane) is held to. */
export type HttpEdgeConfig = Pick<
  HttpSettings,
  'httpRequestTimeoutMs' | 'httpHeadersTimeoutMs' | 'httpKeepAliveTimeoutMs' | 'trustProxy' | 'maxBodyBytes'
>;

export type GatewayConfig = IssuerConfig &
  HttpEdgeConfig &
  Pick<HttpSettings, 'httpHost' | 'httpPort' | 'maxParameters' | 'jwksMaxAgeSeconds'>;

/** The admin plane (apps/admin): the admin API and the audit pages, on a listener of their own. */
export type AdminPlaneConfig = IssuerConfig &
  HttpEdgeConfig &
  Pick<HttpSettings, 'adminHttpHost' | 'adminHttpPort'>;
