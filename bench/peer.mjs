// node-oidc-provider 9 (bench/peer-oidc-provider.mjs) started in its own process, with the workloads
// measured side by side with ours prepared: used by `npm run bench` and `PEER=1 node bench/probe.mjs`.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { basic, form } from './load.mjs';
import { freePort, ROOT } from './system.mjs';

/** node-oidc-provider 9 in its own process, with the same side-by-side workloads prepared. */
export async function startPeer() {
  const port = await freePort();
  const secret = randomBytes(24).toString('base64url');
  const child = spawn(process.execPath, [resolve(ROOT, 'bench/peer-oidc-provider.mjs')], {
    env: { ...process.env, NODE_ENV: 'production', PORT: String(port), PEER_CLIENT_SECRET: secret },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  await new Promise((done, fail) => {
    child.stdout.once('data', () => done());
    child.once('exit', (code) => fail(new Error(`node-oidc-provider exited ${code}`)));
  });
  const base = `http://127.0.0.1:${port}`;
  const auth = basic('bench', secret);
  try {
    const opaque = await (
      await fetch(`${base}/token`, {
        method: 'POST',
        headers: { ...form, authorization: auth },
        body: 'grant_type=client_credentials&scope=read&resource=urn:bench:opaque',
      })
    ).json();
    const workloads = {
      jwks: { url: `${base}/jwks` },
      client_credentials: {
        url: `${base}/token`,
        method: 'POST',
        headers: { ...form, authorization: auth },
        body: 'grant_type=client_credentials&scope=read',
      },
      introspection: {
        url: `${base}/token/introspection`,
        method: 'POST',
        headers: { ...form, authorization: auth },
        body: `token=${opaque.access_token}`,
      },
    };
    return { child, workloads };
  } catch (err) {
    child.kill('SIGTERM');
    throw err;
  }
}
