import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { Agent, buildConnector } from 'undici';
import { isAllowListedHost, type OutboundAllowList, refusedAddress } from './address-policy.js';

/** Refused before any connection: the URL or an address its host resolves to is not allowed. */
export class OutboundRefused extends Error {
  constructor(reason: string) {
    super(`outbound fetch refused: ${reason}`);
    this.name = 'OutboundRefused';
  }
}

export interface OutboundFetchOptions {
  allow: OutboundAllowList;
  /** Whole fetch, from the DNS look-up to the last byte of the body. */
  timeoutMs: number;
  /** Largest response body read; a longer one fails the fetch. */
  maxResponseBytes: number;
  /** Every address of a host name (default: the system resolver, all families). */
  resolve?: (hostname: string) => Promise<string[]>;
  /** Trust anchors that replace the default ones (tests; operators use NODE_EXTRA_CA_CERTS). */
  ca?: string;
}

/**
 * What an outbound request may carry: GET (jose's `customFetch`: jwks_uri), or POST with a form
 * body (Back-Channel Logout 1.0 §2.5). No redirects are followed either way.
 */
export interface OutboundRequestInit {
  method?: 'GET' | 'POST';
  headers?: Headers | Record<string, string>;
  body?: string;
  signal?: AbortSignal;
}

/** The shape of `fetch` that jose's `customFetch` and the other callers use. */
export type OutboundFetch = ((url: string, init?: OutboundRequestInit) => Promise<Response>) & {
  close(): Promise<void>;
};

const systemResolve = async (hostname: string) =>
  (await lookup(hostname, { all: true, verbatim: true })).map((a) => a.address);

/**
 * A GET or POST for URLs a client supplied (jwks_uri, sector_identifier_uri, backchannel_logout_uri;
 * request objects later), that cannot be aimed inward (RFC 9700 §4.16):
 * - https only, no userinfo; redirects are returned, never followed;
 * - the host's addresses are resolved once, all of them must be allowed (address-policy.ts), and
 *   the socket is opened to the address that was checked: no second look-up that a DNS rebinding
 *   could answer differently;
 * - one deadline for the whole fetch, and a bound on the body.
 * undici does the HTTP; its connector is wrapped, so every socket the agent opens passes the check.
 */
export function createOutboundFetch(options: OutboundFetchOptions): OutboundFetch {
  const resolve = options.resolve ?? systemResolve;
  const tcp = buildConnector({
    timeout: options.timeoutMs,
    ...(options.ca === undefined ? {} : { ca: options.ca }),
  });
  const agent = new Agent({
    // `host` keeps the name: undici derives the TLS server name (SNI and the certificate check) from it.
    connect: (connectOptions, callback) => {
      checkedAddress(connectOptions.hostname, options.allow, resolve).then(
        (address) => tcp({ ...connectOptions, hostname: address }, callback),
        (err: Error) => callback(err, null),
      );
    },
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
    maxResponseSize: options.maxResponseBytes,
    connections: 4,
    keepAliveTimeout: 1000,
  });

  const outboundFetch = async (url: string, init: OutboundRequestInit = {}): Promise<Response> => {
    const target = new URL(url);
    if (target.protocol !== 'https:') throw new OutboundRefused('not an https URL');
    if (target.username !== '' || target.password !== '') throw new OutboundRefused('userinfo in the URL');
    const deadline = AbortSignal.timeout(options.timeoutMs);
    const signal = init.signal === undefined ? deadline : AbortSignal.any([init.signal, deadline]);
    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((value, name) => (headers[name] = value));
    // undici settles an aborted request only once a pending connect ends: the deadline is kept here.
    const request = { method: init.method ?? 'GET', headers, body: init.body };
    const work = boundedRequest(agent, target, request, signal, options.maxResponseBytes);
    work.catch(() => undefined);
    return Promise.race([work, rejectOnAbort(signal)]);
  };
  return Object.assign(outboundFetch, { close: () => agent.close() });
}

/**
 * The address to connect to for `hostname`: an IP literal must itself be allowed; a name must
 * resolve, and unless the name is allow-listed every address it resolves to must be allowed.
 */
async function checkedAddress(
  hostname: string,
  allow: OutboundAllowList,
  resolve: (hostname: string) => Promise<string[]>,
): Promise<string> {
  if (isIP(hostname) !== 0) {
    const refused = refusedAddress(hostname, allow);
    if (refused !== null) throw new OutboundRefused(`${hostname} is ${refused}`);
    return hostname;
  }
  const addresses = await resolve(hostname);
  if (addresses.length === 0) throw new OutboundRefused(`${hostname} has no address`);
  if (!isAllowListedHost(hostname, allow)) {
    for (const address of addresses) {
      const refused = refusedAddress(address, allow);
      if (refused !== null) throw new OutboundRefused(`${hostname} resolves to ${address}, ${refused}`);
    }
  }
  return addresses[0]!;
}

/**
 * One request through the checked agent: a status other than 200 answers with no body; a 200 body
 * is read whole, refused at once when its Content-Length announces more than `maxResponseBytes`.
 */
async function boundedRequest(
  agent: Agent,
  target: URL,
  request: { method: 'GET' | 'POST'; headers: Record<string, string>; body: string | undefined },
  signal: AbortSignal,
  maxResponseBytes: number,
): Promise<Response> {
  const response = await agent.request({
    origin: target.origin,
    path: `${target.pathname}${target.search}`,
    method: request.method,
    headers: request.headers,
    ...(request.body !== undefined ? { body: request.body } : {}),
    signal,
  });
  if (response.statusCode !== 200) {
    await response.body.dump().catch(() => undefined);
    if (response.statusCode > 599) throw new Error(`HTTP status ${response.statusCode} from ${target.host}`);
    return new Response(null, { status: response.statusCode });
  }
  const announced = Number(response.headers['content-length']);
  if (announced > maxResponseBytes) {
    response.body.destroy();
    throw new OutboundRefused(`response larger than ${maxResponseBytes} bytes`);
  }
  const body = await response.body.arrayBuffer();
  const contentType = response.headers['content-type'];
  return new Response(body, {
    status: 200,
    headers: typeof contentType === 'string' ? { 'content-type': contentType } : {},
  });
}

function rejectOnAbort(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}
