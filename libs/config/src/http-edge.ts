import { checkIssuer, ConfigError, type Env, int, str } from './env.js';

export interface IssuerConfig {
  /**
   * ISSUER: the issuer identifier (RFC 8414 §2): the public origin of the gateway, no query or
   * fragment. Default http://127.0.0.1:8080 (use https in production; RFC 8414 §2 requires it).
   */
  issuer: string;
}

/** What every HTTP listener (the public gateway and the admin plane) is held to. */
export interface HttpEdgeConfig {
  /**
   * HTTP_REQUEST_TIMEOUT_MS: the longest a client may take to send a whole request, headers and
   * body; past it the connection is closed (slow-body attacks). Default 30000.
   */
  httpRequestTimeoutMs: number;
  /** HTTP_HEADERS_TIMEOUT_MS: the longest a client may take to send the headers. Default 10000. */
  httpHeadersTimeoutMs: number;
  /** HTTP_KEEP_ALIVE_TIMEOUT_MS: how long an idle keep-alive connection stays open. Default 5000. */
  httpKeepAliveTimeoutMs: number;
  /**
   * TRUST_PROXY: the proxies in front of the listener whose X-Forwarded-For entries count: a hop
   * count (`1`: the address the nearest proxy saw) or a comma-separated list of proxy addresses and
   * CIDRs. Unset: none (the socket's address). `true` (every hop) is refused: a client could then
   * choose its own address.
   */
  trustProxy: number | string[] | false;
  /** MAX_BODY_BYTES: largest request body accepted (larger: 413, RFC 9110 §15.5.14). Default 65536. */
  maxBodyBytes: number;
}

export interface GatewayConfig extends IssuerConfig, HttpEdgeConfig {
  /** HTTP_HOST / HTTP_PORT: where the gateway listens. Default 127.0.0.1:8080. */
  httpHost: string;
  httpPort: number;
  /** MAX_PARAMETERS: most form or query parameters in one request (bounds the parsing). Default 100. */
  maxParameters: number;
  /** JWKS_MAX_AGE_SECONDS: Cache-Control max-age of the JWKS document. Default 300. */
  jwksMaxAgeSeconds: number;
}

/** The admin plane (apps/admin): the admin API and the audit pages, on a listener of their own. */
export interface AdminPlaneConfig extends IssuerConfig, HttpEdgeConfig {
  /**
   * ADMIN_HTTP_HOST / ADMIN_HTTP_PORT: where the admin plane listens. Default 127.0.0.1:8070. In
   * Kubernetes it is reached through its own internal Service, never through the public Ingress.
   */
  adminHttpHost: string;
  adminHttpPort: number;
}

export function readIssuer(env: Env): IssuerConfig {
  return { issuer: checkIssuer(str(env, 'ISSUER', 'http://127.0.0.1:8080')) };
}

/** The settings of the gateway's and the admin plane's listeners. */
export function readHttpConfig(env: Env): Omit<GatewayConfig & AdminPlaneConfig, keyof IssuerConfig> {
  const http = {
    httpHost: str(env, 'HTTP_HOST', '127.0.0.1'),
    httpPort: int(env, 'HTTP_PORT', 8080, 0, 65535),
    adminHttpHost: str(env, 'ADMIN_HTTP_HOST', '127.0.0.1'),
    adminHttpPort: int(env, 'ADMIN_HTTP_PORT', 8070, 0, 65535),
    httpRequestTimeoutMs: int(env, 'HTTP_REQUEST_TIMEOUT_MS', 30000, 1000, 600000),
    httpHeadersTimeoutMs: int(env, 'HTTP_HEADERS_TIMEOUT_MS', 10000, 1000, 600000),
    httpKeepAliveTimeoutMs: int(env, 'HTTP_KEEP_ALIVE_TIMEOUT_MS', 5000, 1000, 600000),
    trustProxy: trustProxyOf(env.TRUST_PROXY),
    maxBodyBytes: int(env, 'MAX_BODY_BYTES', 65536, 1024, 10 * 1024 * 1024),
    maxParameters: int(env, 'MAX_PARAMETERS', 100, 10, 10000),
    jwksMaxAgeSeconds: int(env, 'JWKS_MAX_AGE_SECONDS', 300, 0, 86400),
  };
  if (http.httpHeadersTimeoutMs > http.httpRequestTimeoutMs)
    throw new ConfigError('HTTP_HEADERS_TIMEOUT_MS must not exceed HTTP_REQUEST_TIMEOUT_MS');
  return http;
}

function trustProxyOf(raw: string | undefined): number | string[] | false {
  if (raw === undefined || raw === '' || raw === 'false' || raw === '0') return false;
  if (raw === 'true')
    throw new ConfigError(
      'TRUST_PROXY=true would trust every X-Forwarded-For hop, so a client could choose its own ' +
        'address: set the number of proxies in front (e.g. 1) or their addresses (CIDRs)',
    );
  if (/^\d+$/.test(raw)) {
    const hops = Number(raw);
    if (hops > 10) throw new ConfigError('TRUST_PROXY must be a hop count from 0 to 10, or addresses');
    return hops;
  }
  const entries = raw
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  for (const e of entries) {
    if (!/^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(e))
      throw new ConfigError(`TRUST_PROXY must be a hop count or IP addresses/CIDRs, got "${e}"`);
  }
  return entries;
}
