import { Keyset } from '#lib/keysets';
import type { ClientView } from '#lib/contracts';
import {
  grantStreamId,
  hashGrantToken,
  initialGrantState,
  mintGrantToken,
  GRANT_FOLD,
} from '#lib/domain-grant';
import { InMemoryEventStore, foldEvents } from '#lib/event-store';
import { OAuthError } from '#lib/oauth-errors';
import type { GrantState } from '#lib/domain-grant';
import {
  introspectRefreshToken,
  isRefreshTokenOfFamily,
  refreshTokenRevocation,
} from './refresh-token-introspection.js';
import { ScriptedGrant } from './testing/grant-life.js';

const keys = new Keyset([{ kid: 'h1', key: Buffer.alloc(32, 3) }]);
const ISS = 'https://as.test';
const owner = {
  clientId: 'c1',
  sub: 'u-1',
  username: 'alice',
  scope: ['read', 'write'],
  aud: ['https://api.test'],
  redirectUri: 'https://c1.test/cb',
};
const client = (clientId: string, method = 'client_secret_basic') =>
  ({ clientId, tokenEndpointAuthMethod: method }) as unknown as ClientView;
const C1 = client('c1');
const C2 = client('c2');
const P2 = client('p2', 'none');
const now = () => Math.floor(Date.now() / 1000);

/** As the revocation handler does: is the token of the family (state, else the store's probe), then decide. */
const revocation = async (
  store: InMemoryEventStore,
  state: GrantState,
  tokenHash: string,
  caller: ClientView,
  at: Date,
) => refreshTokenRevocation(state, await isRefreshTokenOfFamily(store, state, tokenHash), caller, at);

async function grantWithRotations(rotations: number) {
  const store = new InMemoryEventStore();
  const grant = new ScriptedGrant(store, keys, owner);
  await grant.consent();
  await grant.issueCode();
  await grant.redeem();
  for (let i = 0; i < rotations; i++) await grant.rotate();
  const events = await store.readStream(grantStreamId(grant.grantId));
  return { grant, store, state: foldEvents(GRANT_FOLD, events) };
}
const h = (token: string) => hashGrantToken(token, keys);

describe('refresh tokens at introspection (RFC 7662 §2.2, decision 11)', () => {
  it('INT-09: the active refresh token, introspected by its owning client: active with metadata', async () => {
    const { grant, state } = await grantWithRotations(1);
    const rt = grant.refreshTokens[1]!;
    const r = introspectRefreshToken(state, h(rt), C1, now(), ISS);
    expect(r).toMatchObject({
      active: true,
      client_id: 'c1',
      scope: 'read write',
      sub: 'u-1',
      username: 'alice',
      token_type: 'refresh_token',
      iss: ISS,
    });
    if (!r.active) throw new Error('inactive');
    expect(r.exp).toBeGreaterThan(now());
    expect(r.iat).toBeLessThanOrEqual(now());
  });

  it('INT-09 (decision 11): another client, even a resource server, sees {"active":false}', async () => {
    const { grant, state } = await grantWithRotations(0);
    expect(introspectRefreshToken(state, h(grant.refreshTokens[0]!), C2, now(), ISS)).toEqual({
      active: false,
    });
  });

  it('INT-08: a rotated (consumed) refresh token is inactive', async () => {
    const { grant, state } = await grantWithRotations(2);
    expect(introspectRefreshToken(state, h(grant.refreshTokens[0]!), C1, now(), ISS)).toEqual({
      active: false,
    });
    expect(introspectRefreshToken(state, h(grant.refreshTokens[1]!), C1, now(), ISS)).toEqual({
      active: false,
    });
    expect(introspectRefreshToken(state, h(grant.refreshTokens[2]!), C1, now(), ISS).active).toBe(true);
  });

  it('INT-05: an unknown token of the right shape, the code, an expired family: inactive', async () => {
    const { grant, state } = await grantWithRotations(0);
    expect(introspectRefreshToken(state, h(mintGrantToken(grant.grantId)), C1, now(), ISS)).toEqual({
      active: false,
    });
    expect(introspectRefreshToken(state, h(grant.code), C1, now(), ISS)).toEqual({ active: false });
    expect(introspectRefreshToken(state, h(grant.refreshTokens[0]!), C1, now() + 31 * 86_400, ISS)).toEqual({
      active: false,
    });
    expect(introspectRefreshToken(initialGrantState(), h(grant.refreshTokens[0]!), C1, now(), ISS)).toEqual({
      active: false,
    });
  });

  it('INT-07: after a revocation of the grant, inactive', async () => {
    const { grant, state, store } = await grantWithRotations(0);
    const events = await revocation(store, state, h(grant.refreshTokens[0]!), C1, new Date());
    const revoked = foldEvents(
      GRANT_FOLD,
      [
        {
          ...events[0]!,
          globalPosition: 99,
          streamVersion: 9,
          streamId: 'x',
          eventId: 'e',
          schemaVersion: 1,
          metadata: {},
          recordedAt: new Date(),
        },
      ],
      state,
    );
    expect(introspectRefreshToken(revoked, h(grant.refreshTokens[0]!), C1, now(), ISS)).toEqual({
      active: false,
    });
  });
});

describe('refresh tokens at revocation (RFC 7009 §2.1)', () => {
  it('REV-02: the owner revokes its current refresh token: GrantRevoked (revocation_request) by the client', async () => {
    const { grant, state, store } = await grantWithRotations(1);
    const events = await revocation(
      store,
      state,
      h(grant.refreshTokens[1]!),
      C1,
      new Date('2030-01-01T00:00:00Z'),
    );
    expect(events).toEqual([
      {
        type: 'GrantRevoked',
        data: {
          grantId: grant.grantId,
          reason: 'revocation_request',
          revokedBy: 'client:c1',
          at: '2030-01-01T00:00:00.000Z',
        },
      },
    ]);
  });

  it('REV-11: revoking RT1 after it was rotated into RT2 revokes the family', async () => {
    const { grant, state, store } = await grantWithRotations(1);
    const events = await revocation(store, state, h(grant.refreshTokens[0]!), C1, new Date());
    expect(events.map((e) => e.type)).toEqual(['GrantRevoked']);
  });

  it('REV-07 (decision 10): another confidential client: 400 invalid_request, nothing revoked', async () => {
    const { grant, state, store } = await grantWithRotations(0);
    let error: unknown;
    try {
      await revocation(store, state, h(grant.refreshTokens[0]!), C2, new Date());
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(OAuthError);
    expect((error as OAuthError).error).toBe('invalid_request');
  });

  it("REV-08: a public client's attempt on another client's token is ignored (nothing revoked)", async () => {
    const { grant, state, store } = await grantWithRotations(0);
    expect(await revocation(store, state, h(grant.refreshTokens[0]!), P2, new Date())).toEqual([]);
  });

  it('REV-04/REV-05: unknown token, the code, an unknown grant, an already revoked grant: nothing to do', async () => {
    const { grant, state, store } = await grantWithRotations(0);
    expect(await revocation(store, state, h(mintGrantToken(grant.grantId)), C1, new Date())).toEqual([]);
    expect(await revocation(store, state, h(grant.code), C1, new Date())).toEqual([]);
    expect(await revocation(store, initialGrantState(), h(grant.refreshTokens[0]!), C1, new Date())).toEqual(
      [],
    );
    // An unknown token of another client's grant is not an error either (nothing tells it is theirs).
    expect(await revocation(store, state, h(mintGrantToken(grant.grantId)), C2, new Date())).toEqual([]);
  });
});
