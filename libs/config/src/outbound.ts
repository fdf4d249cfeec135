import { z } from 'zod';
import { OutboundAllowListError, parseOutboundAllowList } from '#lib/outbound-guard';
import { RPC_TIMEOUT_MS } from './bus.js';
import { int, problem, settings } from './env.js';

/**
 * What the server fetches from URLs a client supplied (jwks_uri, sector_identifier_uri) goes through one outbound
 * guard (libs/outbound-guard, RFC 9700 §4.16): https only, no redirects followed, and never to a
 * loopback, private (RFC 1918), shared (100.64/10), link-local (with 169.254.169.254),
 * unique-local, multicast or reserved address, whether named as an IP literal (refused at
 * registration) or resolved from a host name (refused at fetch time).
 */
export const outboundSettings = settings({
  /**
   * OUTBOUND_ALLOW: exceptions the operator allows, separated by commas or spaces: IP addresses
   * (`127.0.0.1`), CIDR ranges (`10.20.0.0/16`) and host names (`jwks.internal.example`, matched
   * exactly, whatever they resolve to). Default empty: no exception.
   */
  outboundAllow: [
    'OUTBOUND_ALLOW',
    z
      .string()
      .default('')
      .transform((raw, ctx) => {
        try {
          return parseOutboundAllowList(raw);
        } catch (err) {
          if (!(err instanceof OutboundAllowListError)) throw err;
          ctx.addIssue({ code: 'custom', message: `OUTBOUND_ALLOW: ${err.message}` });
          return z.NEVER;
        }
      }),
  ],
  /**
   * OUTBOUND_TIMEOUT_MS: the whole of one outbound fetch, from the DNS look-up to the last byte.
   * Default 2500, or half of RPC_TIMEOUT_MS when that is smaller; must be below RPC_TIMEOUT_MS, so
   * that a slow jwks_uri is a 401 invalid_client and not a 503.
   */
  outboundTimeoutMs: ['OUTBOUND_TIMEOUT_MS', int(100, 60000).optional()],
  /** OUTBOUND_MAX_BYTES: the largest response body read (a JWK Set). Default 65536. */
  outboundMaxBytes: ['OUTBOUND_MAX_BYTES', int(1024, 10 * 1024 * 1024).default(65536)],
  rpcTimeoutMs: RPC_TIMEOUT_MS,
}).transform(({ rpcTimeoutMs, ...outbound }, ctx) => {
  const outboundTimeoutMs = outbound.outboundTimeoutMs ?? Math.min(2500, Math.floor(rpcTimeoutMs / 2));
  if (outboundTimeoutMs >= rpcTimeoutMs)
    problem(ctx, 'OUTBOUND_TIMEOUT_MS', `must be below RPC_TIMEOUT_MS (${rpcTimeoutMs})`);
  return { ...outbound, outboundTimeoutMs };
});

export type OutboundConfig = z.output<typeof outboundSettings>;
