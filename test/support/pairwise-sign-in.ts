import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { authorize } from './authorize.js';
import type { RunningSystem } from './system.js';

/**
 * OpenID Connect Core §8.1 on the dev start path: a pairwise client signs a user in, which needs
 * the PAIRWISE_SUBJECT_KEY that `npm start` generates into its secrets file. Returns the user's
 * own sub and the one in the ID token.
 */
export async function pairwiseSignIn(
  env: Record<string, string>,
  secretsFile: string,
): Promise<{ sub: string; idTokenSub: string }> {
  const adminToken = /^ADMIN_TOKEN=(.+)$/m.exec(readFileSync(secretsFile, 'utf8'))![1]!;
  const admin = (path: string, body: unknown) =>
    fetch(`http://127.0.0.1:${env.ADMIN_HTTP_PORT}/admin/${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const password = 'correct horse battery staple 42';
  const user = await admin('users', { username: 'pairwise-user', password });
  if (user.status !== 201) throw new Error(`user: ${user.status}`);
  const { sub } = (await user.json()) as { sub: string };
  const created = await admin('clients', {
    client_name: 'pairwise',
    grant_types: ['authorization_code'],
    redirect_uris: ['https://rp.test/cb'],
    scope: 'openid',
    subject_type: 'pairwise',
  });
  if (created.status !== 201) throw new Error(`client: ${created.status} ${await created.text()}`);
  const rp = (await created.json()) as { client_id: string; client_secret: string };
  const verifier = randomBytes(32).toString('base64url');
  const result = await authorize({ baseUrl: env.ISSUER } as RunningSystem, {
    clientId: rp.client_id,
    redirectUri: 'https://rp.test/cb',
    scope: 'openid',
    codeChallenge: createHash('sha256').update(verifier).digest('base64url'),
    username: 'pairwise-user',
    password,
  });
  const res = await fetch(`${env.ISSUER}/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${rp.client_id}:${rp.client_secret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: result.code!,
      redirect_uri: 'https://rp.test/cb',
      code_verifier: verifier,
    }).toString(),
  });
  if (res.status !== 200) throw new Error(`token: ${res.status} ${await res.text()}`);
  const { id_token } = (await res.json()) as { id_token: string };
  const claims = JSON.parse(Buffer.from(id_token.split('.')[1]!, 'base64url').toString()) as {
    sub: string;
  };
  return { sub, idTokenSub: claims.sub };
}
