import type { NewEvent } from '#lib/event-store';
import { s256 } from '#lib/oauth-protocol';
import { stateAfter } from '../../testing/src/decider-specification.js';
import {
  decideGrant,
  type GrantCommand,
  type GrantDecision,
  type RedeemAuthorizationCode,
  type RotateRefreshToken,
} from './grant.js';
import { evolveGrant, type GrantState, initialGrantState } from './grant-state.js';

const decider = {
  decide: (c: GrantCommand, s: GrantState) => decideGrant(c, s).events,
  evolve: evolveGrant,
  initialState: initialGrantState,
};

const T0 = new Date('2030-01-01T00:00:00Z');
const at = (s: number) => new Date(T0.getTime() + s * 1000);
const VERIFIER = 'v'.repeat(43);
const CHALLENGE = s256(VERIFIER);

function issued(
  overrides: Partial<{ redirectUri: string | null; codeChallenge: string | null }> = {},
): NewEvent[] {
  return decideGrant(
    {
      type: 'IssueAuthorizationCode',
      grantId: 'g1',
      clientId: 'c1',
      sub: 'alice',
      scope: ['read', 'write'],
      redirectUri: 'redirectUri' in overrides ? overrides.redirectUri! : 'https://c1.test/cb',
      deliveredTo: 'https://c1.test/cb',
      codeChallenge: 'codeChallenge' in overrides ? overrides.codeChallenge! : CHALLENGE,
      codeHash: 'code-hash',
      authTime: 1,
      now: T0,
      ttlSeconds: 60,
    },
    initialGrantState(),
  ).events;
}

const redeem = (o: Partial<RedeemAuthorizationCode> = {}): RedeemAuthorizationCode => ({
  type: 'RedeemAuthorizationCode',
  codeHash: 'code-hash',
  clientId: 'c1',
  redirectUri: 'https://c1.test/cb',
  codeVerifier: VERIFIER,
  accessTokenJti: 'jti-1',
  refreshToken: { tokenHash: 'rt-1', idleTtlSeconds: 3600, absoluteTtlSeconds: 86400 },
  now: at(10),
  ...o,
});

const rotate = (o: Partial<RotateRefreshToken> = {}): RotateRefreshToken => ({
  type: 'RotateRefreshToken',
  presentedHash: 'rt-1',
  clientId: 'c1',
  scope: undefined,
  clientScope: ['read', 'write'],
  newHash: 'rt-2',
  idleTtlSeconds: 3600,
  accessTokenJti: 'jti-2',
  reuseGraceSeconds: 0,
  presentedWasIssued: false,
  maxRotations: 1000,
  now: at(20),
  ...o,
});

/** What the store's probe (ISSUED_REFRESH_TOKEN_QUERY) answers for `hash` on this history. */
const wasIssued = (history: NewEvent[], hash: string): boolean =>
  history.some(
    (e) =>
      (e.type === 'RefreshTokenIssued' || e.type === 'RefreshTokenRotated') &&
      (e.data as { tokenHash: string }).tokenHash === hash,
  );

function run(history: NewEvent[], command: GrantCommand): GrantDecision {
  const probed =
    command.type === 'RotateRefreshToken'
      ? { ...command, presentedWasIssued: wasIssued(history, command.presentedHash) }
      : command;
  return decideGrant(probed, stateAfter(decider, history));
}

function redeemed(): NewEvent[] {
  const history = issued();
  return [...history, ...run(history, redeem()).events];
}

function types(d: GrantDecision) {
  return d.events.map((e) => e.type);
}

describe('authorization code redemption (RFC 6749 §4.1.3, RFC 7636 §4.6, checklist decisions 2-4)', () => {
  it('a valid redemption records AuthorizationCodeRedeemed and the first refresh token', () => {
    const d = run(issued(), redeem());
    expect(d.refusal).toBeNull();
    expect(types(d)).toEqual(['AuthorizationCodeRedeemed', 'RefreshTokenIssued']);
    expect(d.events[1]!.data).toMatchObject({ tokenHash: 'rt-1', generation: 1, scope: ['read', 'write'] });
  });

  it('no refresh token when the client has none planned', () => {
    expect(types(run(issued(), redeem({ refreshToken: null })))).toEqual(['AuthorizationCodeRedeemed']);
  });

  it('an unknown code is invalid_grant and records nothing', () => {
    const d = run(issued(), redeem({ codeHash: 'other' }));
    expect(d.refusal?.error).toBe('invalid_grant');
    expect(d.events).toEqual([]);
  });

  it("another client's attempt is invalid_grant and does not burn the code (TOK-07)", () => {
    const history = issued();
    const d = run(history, redeem({ clientId: 'c2' }));
    expect(d.refusal?.error).toBe('invalid_grant');
    expect(d.events).toEqual([]);
    expect(run(history, redeem()).refusal).toBeNull();
  });

  it('an expired code is invalid_grant', () => {
    expect(run(issued(), redeem({ now: at(60) })).refusal?.error).toBe('invalid_grant');
    expect(run(issued(), redeem({ now: at(59) })).refusal).toBeNull();
  });

  it('a replay revokes the grant and every token from it (TOK-06), and is itself recorded', () => {
    const d = run(redeemed(), redeem({ now: at(11) }));
    expect(d.refusal?.error).toBe('invalid_grant');
    expect(types(d)).toEqual(['AuthorizationCodeReplayed', 'GrantRevoked']);
    expect(d.events[1]!.data).toMatchObject({ reason: 'code_replay' });
    const after = stateAfter(decider, [...redeemed(), ...d.events]);
    expect(after).toMatchObject({ status: 'revoked', reason: 'code_replay', accessTokens: 1 });
  });

  it('a replay on an already revoked grant is recorded without a second revocation', () => {
    const first = run(redeemed(), redeem());
    const history = [...redeemed(), ...first.events];
    expect(types(run(history, redeem()))).toEqual(['AuthorizationCodeReplayed']);
  });

  it('TOK-05: a replay with a wrong verifier or redirect_uri is refused without revoking (OAuth 2.1 §7.5.2)', () => {
    for (const bad of [{ codeVerifier: 'w'.repeat(43) }, { redirectUri: 'https://c1.test/other' }]) {
      const d = run(redeemed(), redeem({ ...bad, now: at(11) }));
      expect(d.refusal?.error).toBe('invalid_grant');
      expect(d.events).toEqual([]);
    }
  });

  it('TOK-16: a grant revoked before its code was redeemed refuses the code and records no replay', () => {
    const revoked = [
      ...issued(),
      ...run(issued(), { type: 'RevokeGrant', reason: 'user_disabled', revokedBy: 'user:x', now: at(5) })
        .events,
    ];
    const d = run(revoked, redeem());
    expect(d.refusal?.error).toBe('invalid_grant');
    expect(d.events).toEqual([]);
  });

  describe('redirect_uri (decision 3)', () => {
    it('must match exactly when sent', () => {
      expect(run(issued(), redeem({ redirectUri: 'https://c1.test/cb/' })).refusal?.error).toBe(
        'invalid_grant',
      );
    });
    it('may be omitted when PKCE was used', () => {
      expect(run(issued(), redeem({ redirectUri: undefined })).refusal).toBeNull();
    });
    it('is required when the authorization request had one and PKCE was not used', () => {
      const d = run(
        issued({ codeChallenge: null }),
        redeem({ redirectUri: undefined, codeVerifier: undefined }),
      );
      expect(d.refusal?.error).toBe('invalid_request');
    });
    it('when the authorization request had none, a sent value must be the one the code went to', () => {
      expect(
        run(issued({ redirectUri: null }), redeem({ redirectUri: 'https://c1.test/cb' })).refusal,
      ).toBeNull();
      expect(
        run(issued({ redirectUri: null }), redeem({ redirectUri: 'https://x.test/cb' })).refusal?.error,
      ).toBe('invalid_grant');
    });
  });

  describe('PKCE (RFC 7636 §4.6, decision 2)', () => {
    it('a missing verifier is invalid_grant', () => {
      expect(run(issued(), redeem({ codeVerifier: undefined })).refusal?.error).toBe('invalid_grant');
    });
    it('a wrong verifier is invalid_grant and does not burn the code', () => {
      const d = run(issued(), redeem({ codeVerifier: 'w'.repeat(43) }));
      expect(d.refusal?.error).toBe('invalid_grant');
      expect(d.events).toEqual([]);
    });
    it('a verifier without a challenge (downgrade) is invalid_grant', () => {
      expect(run(issued({ codeChallenge: null }), redeem()).refusal?.error).toBe('invalid_grant');
    });
  });
});

describe('refresh-token rotation (RFC 6749 §6, RFC 9700 §4.14.2, checklist decision 5)', () => {
  it('rotates: a new token of the next generation replaces the presented one', () => {
    const d = run(redeemed(), rotate());
    expect(d.refusal).toBeNull();
    expect(d.events[0]).toMatchObject({
      type: 'RefreshTokenRotated',
      data: {
        previousHash: 'rt-1',
        tokenHash: 'rt-2',
        generation: 2,
        scope: ['read', 'write'],
        withinGrace: false,
      },
    });
  });

  it('the scope may narrow, never widen', () => {
    expect(run(redeemed(), rotate({ scope: ['read'] })).events[0]!.data).toMatchObject({ scope: ['read'] });
    expect(run(redeemed(), rotate({ scope: ['read', 'admin'] })).refusal?.error).toBe('invalid_scope');
  });

  it("the access token's scope is the grant's within the client's current scope (issue 20)", () => {
    const narrowed = run(redeemed(), rotate({ clientScope: ['write', 'other'] }));
    expect(narrowed.refusal).toBeNull();
    expect(narrowed.events[0]!.data).toMatchObject({ scope: ['write'] });
    // Asked for explicitly, a scope the client lost is invalid_scope, and nothing is rotated.
    const asked = run(redeemed(), rotate({ scope: ['read'], clientScope: ['write'] }));
    expect(asked.refusal?.error).toBe('invalid_scope');
    expect(asked.events).toEqual([]);
  });

  it('nothing of the grant left to the client: invalid_scope, no event, the family stays', () => {
    const d = run(redeemed(), rotate({ clientScope: ['other'] }));
    expect(d.refusal?.error).toBe('invalid_scope');
    expect(d.events).toEqual([]);
    // Restored, the same refresh token works (it was not rotated nor the family revoked).
    expect(run(redeemed(), rotate()).refusal).toBeNull();
  });

  it('an invalid refresh token is invalid_grant even when the client lost its scope', () => {
    const d = run(redeemed(), rotate({ presentedHash: 'nope', clientScope: [] }));
    expect(d.refusal?.error).toBe('invalid_grant');
  });

  it('RT-08: a narrowed rotation keeps the grant scope for the next refresh', () => {
    const history = [...redeemed(), ...run(redeemed(), rotate({ scope: ['read'] })).events];
    const after = stateAfter(decider, history);
    expect(after.status === 'active' && after.family?.scope).toEqual(['read', 'write']);
    const next = run(history, rotate({ presentedHash: 'rt-2', newHash: 'rt-3' }));
    expect(next.events[0]!.data).toMatchObject({ scope: ['read', 'write'] });
  });

  it('a narrowed family can widen back only within the original grant', () => {
    const history = [...redeemed(), ...run(redeemed(), rotate({ scope: ['read'] })).events];
    expect(
      run(history, rotate({ presentedHash: 'rt-2', newHash: 'rt-3', scope: ['read', 'write'] })).refusal,
    ).toBeNull();
  });

  it('reuse of a rotated token revokes the family (default: no grace)', () => {
    const history = [...redeemed(), ...run(redeemed(), rotate()).events];
    const d = run(history, rotate({ newHash: 'rt-3', now: at(21) }));
    expect(d.refusal?.error).toBe('invalid_grant');
    expect(types(d)).toEqual(['RefreshTokenReuseDetected', 'GrantRevoked']);
    const after = stateAfter(decider, [...history, ...d.events]);
    expect(after.status).toBe('revoked');
    // the token that had replaced it is dead too
    expect(
      run([...history, ...d.events], rotate({ presentedHash: 'rt-2', newHash: 'rt-4' })).refusal?.error,
    ).toBe('invalid_grant');
  });

  it("two concurrent rotations: the loser re-decides on the winner's state and that counts as reuse", () => {
    const base = redeemed();
    const winner = run(base, rotate({ newHash: 'rt-a' }));
    const loser = run([...base, ...winner.events], rotate({ newHash: 'rt-b' }));
    expect(winner.refusal).toBeNull();
    expect(types(loser)).toEqual(['RefreshTokenReuseDetected', 'GrantRevoked']);
  });

  it('inside the grace window the same client gets a new pair and the family lives', () => {
    const history = [...redeemed(), ...run(redeemed(), rotate()).events];
    const d = run(history, rotate({ newHash: 'rt-3', reuseGraceSeconds: 30, now: at(50) }));
    expect(d.refusal).toBeNull();
    expect(d.events[0]!.data).toMatchObject({ withinGrace: true, generation: 3 });
  });

  it('outside the grace window (or beyond its 60 s cap) reuse revokes the family', () => {
    const history = [...redeemed(), ...run(redeemed(), rotate()).events];
    expect(types(run(history, rotate({ newHash: 'rt-3', reuseGraceSeconds: 30, now: at(51) })))).toEqual([
      'RefreshTokenReuseDetected',
      'GrantRevoked',
    ]);
    expect(types(run(history, rotate({ newHash: 'rt-3', reuseGraceSeconds: 600, now: at(81) })))).toEqual([
      'RefreshTokenReuseDetected',
      'GrantRevoked',
    ]);
  });

  it('another client presenting the token gets invalid_grant and nothing changes', () => {
    const d = run(redeemed(), rotate({ clientId: 'c2' }));
    expect(d.refusal?.error).toBe('invalid_grant');
    expect(d.events).toEqual([]);
  });

  it('an unknown token is invalid_grant without a revocation', () => {
    const d = run(redeemed(), rotate({ presentedHash: 'never-issued' }));
    expect(d.refusal?.error).toBe('invalid_grant');
    expect(d.events).toEqual([]);
  });

  it('idle and absolute expiry', () => {
    expect(run(redeemed(), rotate({ now: at(10 + 3600) })).refusal?.error).toBe('invalid_grant');
    let history = redeemed();
    let current = 'rt-1';
    for (let i = 1; i <= 30; i++) {
      const next = `rt-${i + 1}`;
      const d = run(history, rotate({ presentedHash: current, newHash: next, now: at(10 + i * 3000) }));
      if (d.refusal) {
        expect(d.refusal.error).toBe('invalid_grant');
        expect(10 + i * 3000).toBeGreaterThanOrEqual(86400);
        return;
      }
      history = [...history, ...d.events];
      current = next;
    }
    throw new Error('the family outlived its absolute lifetime');
  });

  it('a family at its rotation limit ends with RefreshTokenFamilyEnded, and issues nothing after', () => {
    let history = redeemed();
    let current = 'rt-1';
    for (let i = 1; i <= 3; i++) {
      const next = `rt-${i + 1}`;
      const d = run(
        history,
        rotate({ presentedHash: current, newHash: next, maxRotations: 3, now: at(20 + i) }),
      );
      expect(d.refusal).toBeNull();
      history = [...history, ...d.events];
      current = next;
    }
    const ended = run(
      history,
      rotate({ presentedHash: current, newHash: 'rt-x', maxRotations: 3, now: at(30) }),
    );
    expect(ended.refusal?.error).toBe('invalid_grant');
    expect(ended.events).toEqual([
      {
        type: 'RefreshTokenFamilyEnded',
        data: { grantId: 'g1', reason: 'rotation_limit', generation: 4, at: at(30).toISOString() },
      },
    ]);
    history = [...history, ...ended.events];
    const after = stateAfter(decider, history);
    expect(after).toMatchObject({ status: 'active', family: null, accessTokens: 4 });
    const again = run(
      history,
      rotate({ presentedHash: current, newHash: 'rt-y', maxRotations: 3, now: at(31) }),
    );
    expect(again.refusal?.error).toBe('invalid_grant');
    expect(again.events).toEqual([]);
  });

  it('the folded state does not grow with the family: the same size after 10,000 and after 20,000 rotations', () => {
    const sizes: number[] = [];
    let state = stateAfter(decider, redeemed());
    let current = 'rt-1';
    for (let i = 1; i <= 20_000; i++) {
      const next = `rt-${String(i + 1).padStart(6, '0')}`;
      const d = decideGrant(
        rotate({ presentedHash: current, newHash: next, maxRotations: 1e9, now: at(20) }),
        state,
      );
      expect(d.refusal).toBeNull();
      state = d.events.reduce(
        (s, e, k) => evolveGrant(s, { ...e, streamVersion: i + k, recordedAt: at(20) } as never),
        state,
      );
      current = next;
      if (i === 10_000 || i === 20_000) sizes.push(JSON.stringify(state).length);
    }
    expect(sizes[1]).toBe(sizes[0]);
  });

  it('a code that was not redeemed has no refresh token', () => {
    expect(run(issued(), rotate()).refusal?.error).toBe('invalid_grant');
  });
});

describe('grant revocation (RFC 7009 §2.1)', () => {
  it('revokes once; revoking again changes nothing', () => {
    const d = run(redeemed(), {
      type: 'RevokeGrant',
      reason: 'revocation_request',
      revokedBy: 'client:c1',
      now: at(30),
    });
    expect(types(d)).toEqual(['GrantRevoked']);
    const history = [...redeemed(), ...d.events];
    expect(
      run(history, { type: 'RevokeGrant', reason: 'revocation_request', revokedBy: 'client:c1', now: at(31) })
        .events,
    ).toEqual([]);
    expect(run(history, rotate()).refusal?.error).toBe('invalid_grant');
  });
});

describe('OpenID Connect facts of the authentication (Core §2, §3.1.2.1)', () => {
  const withFacts = (facts: { nonce?: string; sid?: string; amr?: string[]; acr?: string }) =>
    decideGrant(
      {
        type: 'IssueAuthorizationCode',
        grantId: 'g1',
        clientId: 'c1',
        sub: 'alice',
        scope: ['openid'],
        redirectUri: null,
        deliveredTo: 'https://c1.test/cb',
        codeChallenge: CHALLENGE,
        codeHash: 'code-hash',
        authTime: 1,
        ...facts,
        now: T0,
        ttlSeconds: 60,
      },
      initialGrantState(),
    ).events;

  it('AuthorizationCodeIssued records nonce, sid, amr and acr when sent, and the grant keeps them', () => {
    const events = withFacts({ nonce: 'n-1', sid: 's-1', amr: ['pwd'], acr: '0' });
    expect(events[0]!.data).toMatchObject({ nonce: 'n-1', sid: 's-1', amr: ['pwd'], acr: '0' });
    const state = stateAfter(decider, events);
    expect(state.status === 'code_issued' && state.grant).toMatchObject({
      nonce: 'n-1',
      sid: 's-1',
      amr: ['pwd'],
      acr: '0',
    });
  });

  it('records none of them when none was sent (plain OAuth requests are unchanged)', () => {
    const data = withFacts({ amr: [] })[0]!.data as Record<string, unknown>;
    for (const field of ['nonce', 'sid', 'amr', 'acr']) expect(Object.hasOwn(data, field)).toBe(false);
  });
});
