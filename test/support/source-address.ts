import { request } from 'node:http';

export interface FetchFromInit {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
}

/**
 * An HTTP request made from a chosen loopback source address (on Linux the whole of 127.0.0.0/8
 * is local), answered as a fetch Response. The gateway sees a different client address per
 * `localAddress` with no proxy in between, so per-address limits are tested without depending on
 * how TRUST_PROXY reads X-Forwarded-For. One connection per request (no keep-alive).
 */
export function fetchFrom(localAddress: string, url: string, init: FetchFromInit = {}): Promise<Response> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: target.hostname,
        port: target.port,
        path: `${target.pathname}${target.search}`,
        method: init.method ?? 'GET',
        headers: init.headers,
        localAddress,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const headers = new Headers();
          for (let i = 0; i + 1 < res.rawHeaders.length; i += 2)
            headers.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!);
          const body = Buffer.concat(chunks);
          resolve(new Response(body.length > 0 ? body : null, { status: res.statusCode!, headers }));
        });
      },
    );
    req.on('error', reject);
    req.end(init.body);
  });
}

/** A form POST from `localAddress` (see fetchFrom). */
export function postFormFrom(
  localAddress: string,
  url: string,
  form: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetchFrom(localAddress, url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form).toString(),
  });
}
