import { OAuthError } from '#lib/oauth-errors';
import { foldEvents, type NewEvent } from '#lib/event-store';
import { eventsOrThrow } from '#lib/decider';
import { recordEvents } from '../../testing/src/decider-specification.js';
import {
  type ClientCommand,
  decideClient as decideClientDecision,
  type RegisterClient,
  type UpdateClient,
} from './client.js';
import { CLIENT_FOLD, clientView, initialClientState } from './client-state.js';
import type { RegistrationOrigin } from './registration-policy.js';

/** The decision's events, or its refusal thrown (as the decider answered before refusals were data). */
const decideClient = (...args: Parameters<typeof decideClientDecision>) =>
  eventsOrThrow(decideClientDecision(...args));

type State = ReturnType<typeof initialClientState>;
const stateAfter = (events: readonly NewEvent[], from: State = initialClientState()): State =>
  foldEvents(CLIENT_FOLD, recordEvents(events), from);
const now = new Date('2030-01-01T00:00:00.000Z');
const administrator: RegistrationOrigin = { kind: 'administrator', privilegedScopes: ['admin', 'billing'] };
const policy = {
  privilegedScopes: ['admin', 'billing'],
  allowedScopes: null,
  allowedAudiences: ['https://api.open.test'],
  maxAccessTokenTtlSeconds: 600,
  maxRefreshTokenTtlSeconds: 86400,
};
const selfService: RegistrationOrigin = { kind: 'self-service', policy };

const register = (origin: RegistrationOrigin, overrides: Partial<RegisterClient> = {}): RegisterClient => ({
  type: 'RegisterClient',
  origin,
  clientId: 'c1',
  clientName: 'C1',
  tokenEndpointAuthMethod: 'client_secret_basic',
  grantTypes: ['client_credentials'],
  scope: ['read'],
  defaultScope: [],
  audience: [],
  secretHash: 'h'.repeat(43),
  now,
  ...overrides,
});

function refusal(command: ClientCommand, given: ClientCommand[] = []): OAuthError {
  let state = initialClientState();
  for (const c of given) state = stateAfter(decideClient(c, state), state);
  try {
    decideClient(command, state);
  } catch (err) {
    if (err instanceof OAuthError) return err;
    throw err;
  }
  throw new Error('not refused');
}

describe('registration policy (RFC 7591 §2, §5; RFC 9700 §4.11; checklist PRIV-01, PRIV-02)', () => {
  it('PRIV-01: self-service registration with a privileged scope is invalid_client_metadata naming scope', () => {
    for (const scope of [['admin'], ['read', 'billing']]) {
      const err = refusal(register(selfService, { scope }));
      expect([err.error, err.description]).toEqual([
        'invalid_client_metadata',
        expect.stringMatching(/^scope: (admin|billing) is granted by an administrator only$/),
      ]);
    }
  });

  it('PRIV-01: an administrator grants a privileged scope as its own event, never in the metadata', () => {
    const events = decideClient(register(administrator, { scope: ['read', 'admin'] }), initialClientState());
    expect(events.map((e) => e.type)).toEqual(['ClientRegistered', 'ClientPrivilegeGranted']);
    expect((events[0]!.data as { scope: string[] }).scope).toEqual(['read']);
    const view = clientView(stateAfter(events));
    expect(view.scope).toEqual(['read', 'admin']);
    expect(view.privilegedScopes).toEqual(['admin']);
  });

  it.each([
    ['audience', { audience: ['https://api.internal.test'] }],
    ['access_token_ttl_seconds', { accessTokenTtlSeconds: 601 }],
    [
      'refresh_token_ttl_seconds',
      {
        grantTypes: ['authorization_code', 'refresh_token'],
        redirectUris: ['https://c1.test/cb'],
        refreshTokenTtlSeconds: 86401,
      },
    ],
    ['require_pkce', { requirePkce: false }],
  ] as [string, Partial<RegisterClient>][])(
    'PRIV-02: self-service cannot choose %s beyond the policy',
    (field, change) => {
      const err = refusal(register(selfService, change));
      expect(err.error).toBe('invalid_client_metadata');
      expect(err.description.startsWith(`${field}:`)).toBe(true);
      expect(() => decideClient(register(administrator, change), initialClientState())).not.toThrow();
    },
  );

  it('an allowed audience, lower lifetimes and a scope the policy lists are accepted', () => {
    const origin: RegistrationOrigin = {
      kind: 'self-service',
      policy: { ...policy, allowedScopes: ['read', 'write'] },
    };
    expect(() =>
      decideClient(
        register(origin, {
          audience: ['https://api.open.test'],
          accessTokenTtlSeconds: 60,
          scope: ['read', 'write'],
        }),
        initialClientState(),
      ),
    ).not.toThrow();
    expect(refusal(register(origin, { scope: ['email'] })).description).toBe(
      'scope: email is not allowed by the registration policy',
    );
  });

  it('PRIV-02: a self-service update keeps what an administrator set, gives up a privilege it leaves out, never adds one', () => {
    const setUp = register(administrator, {
      scope: ['read', 'admin'],
      audience: ['https://api.internal.test'],
      accessTokenTtlSeconds: 3600,
    });
    const update = (changes: Partial<UpdateClient>): ClientCommand => ({
      type: 'UpdateClient',
      origin: selfService,
      clientName: 'C1',
      tokenEndpointAuthMethod: 'client_secret_basic',
      grantTypes: ['client_credentials'],
      scope: ['read', 'admin'],
      defaultScope: [],
      audience: ['https://api.internal.test'],
      accessTokenTtlSeconds: 3600,
      now,
      ...changes,
    });
    let state = stateAfter(decideClient(setUp, initialClientState()));
    expect(decideClient(update({}), state).map((e) => e.type)).toEqual(['ClientUpdated']);
    expect(refusal(update({ scope: ['read', 'admin', 'billing'] }), [setUp]).description).toMatch(
      /^scope: billing/,
    );
    expect(refusal(update({ accessTokenTtlSeconds: 7200 }), [setUp]).description).toMatch(
      /^access_token_ttl_seconds/,
    );
    const givenUp = decideClient(update({ scope: ['read'] }), state);
    expect(givenUp.map((e) => e.type)).toEqual(['ClientUpdated', 'ClientPrivilegeRevoked']);
    state = stateAfter(givenUp, state);
    expect(clientView(state).scope).toEqual(['read']);
  });

  it('an administrator grants only a scope marked privileged, and revokes what it granted', () => {
    const setUp = register(administrator);
    const state = stateAfter(decideClient(setUp, initialClientState()));
    expect(
      refusal({ type: 'GrantClientPrivilege', scope: 'read', privilegedScopes: ['admin'], now }, [setUp])
        .error,
    ).toBe('invalid_request');
    const granted = decideClient(
      { type: 'GrantClientPrivilege', scope: 'admin', privilegedScopes: ['admin'], now },
      state,
    );
    const after = stateAfter(granted, state);
    expect(clientView(after).privilegedScopes).toEqual(['admin']);
    const revoked = decideClient({ type: 'RevokeClientPrivilege', scope: 'admin', now }, after);
    expect(clientView(stateAfter(revoked, after)).scope).toEqual(['read']);
  });

  it('upcasts a version 1 registration that held admin in its scope: the scope is not honoured', () => {
    const state = stateAfter([
      {
        type: 'ClientRegistered',
        schemaVersion: 1,
        data: {
          clientId: 'old',
          clientName: 'Old',
          tokenEndpointAuthMethod: 'client_secret_basic',
          grantTypes: ['client_credentials'],
          scope: ['read', 'admin'],
          defaultScope: ['admin'],
          audience: [],
          secretHash: null,
          registeredAt: now.toISOString(),
        },
      },
    ]);
    expect(clientView(state)).toMatchObject({ scope: ['read'], defaultScope: [], privilegedScopes: [] });
  });
});
