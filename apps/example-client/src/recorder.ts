/** One HTTP exchange as the learner sees it: what was sent, what came back. */
export interface Exchange {
  request: { method: string; url: string; headers: [string, string][]; body: string | null };
  response: { status: number; headers: [string, string][]; body: string } | { error: string };
}

// The client secret is shown masked; everything else is shown as sent (demo tokens, demo data).
function shown(name: string, value: string): string {
  if (name.toLowerCase() !== 'authorization' || !/^basic /i.test(value)) return value;
  const decoded = Buffer.from(value.slice(6), 'base64').toString();
  const id = decodeURIComponent(decoded.slice(0, decoded.indexOf(':')).replace(/\+/g, ' '));
  return `Basic base64(${id}:••••••••)  (client_secret_basic, RFC 6749 §2.3.1)`;
}

const RESPONSE_HEADERS = ['content-type', 'cache-control', 'www-authenticate', 'pragma', 'location'];

/**
 * A fetch that records every request and response it carries, for oauth4webapi's `customFetch`
 * option and for the calls to the resource server.
 */
export function recordingFetch(log: Exchange[]) {
  return async (url: string, init: RequestInit = {}): Promise<Response> => {
    const headers = new Headers(init.headers);
    const body =
      init.body === undefined || init.body === null
        ? null
        : init.body instanceof URLSearchParams
          ? init.body.toString()
          : String(init.body);
    const exchange: Exchange = {
      request: {
        method: init.method ?? 'GET',
        url,
        headers: [...headers.entries()].map(([k, v]) => [k, shown(k, v)]),
        body,
      },
      response: { error: 'no response' },
    };
    log.push(exchange);
    try {
      const response = await fetch(url, init);
      exchange.response = {
        status: response.status,
        headers: [...response.headers.entries()].filter(([k]) => RESPONSE_HEADERS.includes(k)),
        body: await response.clone().text(),
      };
      return response;
    } catch (err) {
      exchange.response = { error: err instanceof Error ? err.message : String(err) };
      throw err;
    }
  };
}
