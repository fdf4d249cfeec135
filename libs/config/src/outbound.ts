import { OutboundAllowListError, type OutboundAllowList, parseOutboundAllowList } from '#lib/outbound-guard';
import { ConfigError, type Env, int } from './env.js';

/**
 * What the server fetches from URLs a client supplied (jwks_uri, sector_identifier_uri) goes through one outbound
 * guard (libs/outbound-guard, RFC 9700 §4.16): https only, no redirects followed, and never to a
 * loopback, private (RFC 1918), shared (100.64/10), link-local (with 169.254.169.254),
 * unique-local, multicast or reserved address, whether named as an IP literal (refused at
 * registration) or resolved from a host name (refused at fetch time).
 */
export interface OutboundConfig {
  /**
   * OUTBOUND_ALLOW: exceptions the operator allows, separated by commas or spaces: IP addresses
   * (`127.0.0.1`), CIDR ranges (`10.20.0.0/16`) and host names (`jwks.internal.example`, matched
   * exactly, whatever they resolve to). Default empty: no exception.
   */
  outboundAllow: OutboundAllowList;
  /**
   * OUTBOUND_TIMEOUT_MS: the whole of one outbound fetch, from the DNS look-up to the last byte.
   * Default 2500, or half of RPC_TIMEOUT_MS when that is smaller; must be below RPC_TIMEOUT_MS, so
   * that a slow jwks_uri is a 401 invalid_client and not a 503.
   */
  outboundTimeoutMs: number;
  /** OUTBOUND_MAX_BYTES: the largest response body read (a JWK Set). Default 65536. */
  outboundMaxBytes: number;
}

export function outboundSettings(env: Env, rpcTimeoutMs: number): OutboundConfig {
  let outboundAllow: OutboundAllowList;
  try {
    outboundAllow = parseOutboundAllowList(env.OUTBOUND_ALLOW ?? '');
  } catch (err) {
    if (err instanceof OutboundAllowListError) throw new ConfigError(`OUTBOUND_ALLOW: ${err.message}`);
    throw err;
  }
  const fallback = Math.min(2500, Math.floor(rpcTimeoutMs / 2));
  const outboundTimeoutMs = int(env, 'OUTBOUND_TIMEOUT_MS', fallback, 100, 60000);
  if (outboundTimeoutMs >= rpcTimeoutMs) {
    throw new ConfigError(`OUTBOUND_TIMEOUT_MS must be below RPC_TIMEOUT_MS (${rpcTimeoutMs})`);
  }
  return {
    outboundAllow,
    outboundTimeoutMs,
    outboundMaxBytes: int(env, 'OUTBOUND_MAX_BYTES', 65536, 1024, 10 * 1024 * 1024),
  };
}
