import { OAuthError } from '#lib/oauth-errors';
import { createLocalJWKSet, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { AdminAuthenticator, type AdminAuthenticatorPorts } from './admin-authenticator.js';

const ISSUER = 'https://as.test';
const AUDIENCE = 'https://as.test/admin';
const BOOTSTRAP = 'b'.repeat(43);

describe('AdminAuthenticator: the owning service verifies the credential (RFC 6750 §3.1, RFC 9068 §4; checklist PRIV-04, PRIV-08)', () => {
  let sign: (claims: Record<string, unknown>) => Promise<string>;
  let ports: AdminAuthenticatorPorts;
  let clients: Record<string, { status: 'active' | 'disabled'; privilegedScopes: string[] }>;
  let revoked: Set<string>;
  const authenticator = (bootstrapToken: string | null = BOOTSTRAP) =>
    new AdminAuthenticator(ports, {
      issuer: ISSUER,
      audience: AUDIENCE,
      bootstrapToken: bootstrapToken ?? undefined,
    });

  beforeAll(async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' };
    const keys = createLocalJWKSet({ keys: [jwk] });
    sign = (claims) =>
      new SignJWT({ client_id: 'ops', scope: 'admin', jti: `j-${Math.random()}`, ...claims })
        .setProtectedHeader({ alg: 'ES256', kid: 'k1', typ: 'at+jwt' })
        .setIssuer(ISSUER)
        .setSubject((claims.sub as string) ?? 'ops')
        .setAudience((claims.aud as string) ?? AUDIENCE)
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(privateKey);
    ports = {
      keys: async () => keys,
      client: async (id) => clients[id] ?? null,
      tokenActive: async (jti) => !revoked.has(jti),
    };
  });

  beforeEach(() => {
    clients = { ops: { status: 'active', privilegedScopes: ['admin'] } };
    revoked = new Set();
  });

  async function refusal(credential: unknown, a = authenticator()): Promise<[string, number]> {
    try {
      await a.authenticate(credential);
    } catch (err) {
      if (err instanceof OAuthError) return [err.error, err.status];
      throw err;
    }
    throw new Error('accepted');
  }

  it('accepts the bootstrap ADMIN_TOKEN as actor admin, and refuses it once switched off', async () => {
    await expect(authenticator().authenticate(BOOTSTRAP)).resolves.toEqual({
      kind: 'bootstrap',
      actor: 'admin',
    });
    expect(await refusal(BOOTSTRAP, authenticator(null))).toEqual(['invalid_token', 401]);
  });

  it('PRIV-08: no credential, a wrong one, or a flag in its place is invalid_token', async () => {
    for (const credential of [undefined, '', true, { admin: true }, 'admin', 'c'.repeat(43)])
      expect(await refusal(credential)).toEqual(['invalid_token', 401]);
  });

  it("accepts an admin client's token for the admin API, as actor client:<id>", async () => {
    await expect(authenticator().authenticate(await sign({}))).resolves.toEqual({
      kind: 'client',
      actor: 'client:ops',
      clientId: 'ops',
    });
  });

  it('PRIV-04: a token for another audience is invalid_token', async () => {
    expect(await refusal(await sign({ aud: 'https://api.test' }))).toEqual(['invalid_token', 401]);
  });

  it("PRIV-04: a token without scope admin, or a user's token, is insufficient_scope", async () => {
    expect(await refusal(await sign({ scope: 'read' }))).toEqual(['insufficient_scope', 403]);
    expect(await refusal(await sign({ sub: 'alice' }))).toEqual(['insufficient_scope', 403]);
  });

  it('refuses a client that lost the privilege, is disabled or unknown, and a revoked token', async () => {
    const token = await sign({});
    clients.ops = { status: 'active', privilegedScopes: [] };
    expect(await refusal(token)).toEqual(['invalid_token', 401]);
    clients.ops = { status: 'disabled', privilegedScopes: ['admin'] };
    expect(await refusal(token)).toEqual(['invalid_token', 401]);
    delete clients.ops;
    expect(await refusal(token)).toEqual(['invalid_token', 401]);
    clients.ops = { status: 'active', privilegedScopes: ['admin'] };
    const jti = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).jti as string;
    revoked.add(jti);
    expect(await refusal(token)).toEqual(['invalid_token', 401]);
  });

  it('refuses a token signed by another key', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    const forged = await new SignJWT({ client_id: 'ops', scope: 'admin', jti: 'x' })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1', typ: 'at+jwt' })
      .setIssuer(ISSUER)
      .setSubject('ops')
      .setAudience(AUDIENCE)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(privateKey);
    expect(await refusal(forged)).toEqual(['invalid_token', 401]);
  });
});
