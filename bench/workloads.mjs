// The workloads the benchmarks share (npm run bench, bench:growth, bench/probe.mjs): each returns
// autocannon options for a running BenchSystem.
import { REDIRECT_URI } from './system.mjs';
import { basic, form } from './load.mjs';

/** A confidential client_credentials client: issuance, and introspection of a token it got first. */
export async function clientCredentials(system, name) {
  const client = await system.createClient([
    '--name',
    name,
    '--grant',
    'client_credentials',
    '--scope',
    'read',
  ]);
  const headers = { ...form, authorization: basic(client.client_id, client.client_secret) };
  const body = 'grant_type=client_credentials&scope=read';
  const url = `${system.baseUrl}/token`;
  const issued = await (await fetch(url, { method: 'POST', headers, body })).json();
  if (!issued.access_token) throw new Error(`cannot get a token: ${JSON.stringify(issued)}`);
  return {
    issue: { url, method: 'POST', headers, body },
    introspect: {
      url: `${system.baseUrl}/introspect`,
      method: 'POST',
      headers,
      body: `token=${issued.access_token}`,
    },
  };
}

export const jwks = (system) => ({ url: `${system.baseUrl}/jwks` });

/** A confidential client for the code and refresh grants. */
export async function webClient(system, name) {
  const client = await system.createClient([
    '--name',
    name,
    '--grant',
    'authorization_code',
    '--grant',
    'refresh_token',
    '--scope',
    'read',
    '--redirect-uri',
    REDIRECT_URI,
  ]);
  return {
    clientId: client.client_id,
    headers: { ...form, authorization: basic(client.client_id, client.client_secret) },
  };
}

const redemption = (code, verifier) =>
  `grant_type=authorization_code&code=${code}&redirect_uri=${encodeURIComponent(REDIRECT_URI)}&code_verifier=${verifier}`;

/** Redemption of `count` codes prepared in advance, each once. */
export async function codeRedemptions(system, web, count) {
  const { codes, verifier } = await system.seedCodes(web.clientId, count);
  let next = 0;
  return {
    url: `${system.baseUrl}/token`,
    method: 'POST',
    headers: web.headers,
    requests: [
      {
        setupRequest: (req) => {
          const code = codes[next++];
          if (code === undefined) throw new Error('ran out of prepared codes');
          return { ...req, body: redemption(code, verifier) };
        },
      },
    ],
  };
}

/**
 * Rotation of `families` refresh-token families: each in flight at most once, its next token put
 * back on the answer.
 */
export async function refreshRotations(system, web, families) {
  const { codes, verifier } = await system.seedCodes(web.clientId, families);
  const url = `${system.baseUrl}/token`;
  const pool = [];
  for (const code of codes) {
    const res = await fetch(url, { method: 'POST', headers: web.headers, body: redemption(code, verifier) });
    const body = await res.json();
    if (!body.refresh_token) throw new Error(`no refresh token: ${JSON.stringify(body)}`);
    pool.push(body.refresh_token);
  }
  return {
    url,
    method: 'POST',
    headers: web.headers,
    requests: [
      {
        setupRequest: (req) => {
          const token = pool.shift();
          if (token === undefined) throw new Error('no idle refresh-token family');
          return { ...req, body: `grant_type=refresh_token&refresh_token=${token}` };
        },
        onResponse: (status, body) => {
          if (status === 200) pool.push(JSON.parse(body).refresh_token);
        },
      },
    ],
  };
}
