import { eventsOrThrow } from '#lib/decider';
import type { Keyset } from '#lib/keysets';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { consentStreamId, decideConsent, initialConsentState } from '#lib/domain-consent';
import {
  decideGrant,
  GRANT_FOLD,
  type GrantCommand,
  type GrantState,
  grantStreamId,
  hashGrantToken,
  initialGrantState,
  mintGrantToken,
  newGrantId,
} from '#lib/domain-grant';
import {
  type AppendRequest,
  type EventStore,
  type NewEvent,
  type RecordedEvent,
  foldEvents,
} from '#lib/event-store';
import { accessTokenStreamId, decideAccessToken, initialAccessTokenState } from '../access-token.js';

/**
 * A grant's life scripted the way the consent and token services write it: the deciders run and
 * their events are appended to the same streams, with the same expected versions (one appendMany
 * of the grant events and the AccessTokenIssued, as the token service does). For tests of the
 * introspection service's reading of grants (int and e2e).
 */
export interface AccessTokenIssuance {
  jti: string;
  iat: number;
  exp: number;
}

export interface GrantLifeStep {
  name: string;
  /** recordedAt of the step's last event: an `as_of` at this instant sees the step. */
  at: Date;
  position: number;
}

export class ScriptedGrant {
  readonly grantId = newGrantId();
  readonly code = mintGrantToken(this.grantId);
  /** Every refresh token of the family, in order: [RT1, RT2, …]. */
  readonly refreshTokens: string[] = [];
  readonly accessTokens: AccessTokenIssuance[] = [];
  readonly steps: GrantLifeStep[] = [];
  private state: GrantState = initialGrantState();
  private version = 0;
  private readonly verifier = randomBytes(32).toString('base64url');

  constructor(
    private readonly store: EventStore,
    private readonly secretHashKeys: Keyset,
    readonly owner: {
      clientId: string;
      sub: string;
      username: string;
      scope: string[];
      aud: string[];
      redirectUri: string;
    },
    private readonly options: { accessTokenTtlSeconds?: number; kid?: string } = {},
  ) {}

  /** The consent service: the user allows the client (ConsentGranted on the consent stream). */
  async consent(): Promise<void> {
    const { sub, clientId, scope } = this.owner;
    const events = eventsOrThrow(
      decideConsent({ type: 'GrantConsent', sub, clientId, scope, now: new Date() }, initialConsentState()),
    );
    const [result] = await this.store.appendMany([
      {
        streamId: consentStreamId(sub, clientId),
        expectedVersion: 'any',
        events: this.by(events, `user:${sub}`),
      },
    ]);
    this.step('consent', result!.events);
  }

  /** The consent service: AuthorizationCodeIssued, with a PKCE S256 challenge. */
  async issueCode(): Promise<void> {
    const { clientId, sub, username, scope, redirectUri } = this.owner;
    await this.grant(
      'code issued',
      {
        type: 'IssueAuthorizationCode',
        grantId: this.grantId,
        clientId,
        sub,
        username,
        scope,
        redirectUri,
        deliveredTo: redirectUri,
        codeChallenge: createHash('sha256').update(this.verifier).digest('base64url'),
        codeHash: hashGrantToken(this.code, this.secretHashKeys),
        authTime: Math.floor(Date.now() / 1000),
        now: new Date(),
        ttlSeconds: 60,
      },
      `user:${sub}`,
    );
  }

  /** The token service: the code redeemed for an access token and RT1. */
  async redeem(): Promise<void> {
    const rt = mintGrantToken(this.grantId);
    const jti = randomUUID();
    await this.grant(
      'code redeemed',
      {
        type: 'RedeemAuthorizationCode',
        codeHash: hashGrantToken(this.code, this.secretHashKeys),
        clientId: this.owner.clientId,
        redirectUri: this.owner.redirectUri,
        codeVerifier: this.verifier,
        accessTokenJti: jti,
        refreshToken: {
          tokenHash: hashGrantToken(rt, this.secretHashKeys),
          idleTtlSeconds: 86_400,
          absoluteTtlSeconds: 30 * 86_400,
        },
        now: new Date(),
      },
      `client:${this.owner.clientId}`,
      { jti, grantType: 'authorization_code' },
    );
    this.refreshTokens.push(rt);
  }

  /** The token service: `presented` (default the current RT) rotated into a new one. */
  async rotate(presented = this.refreshTokens[this.refreshTokens.length - 1]!): Promise<void> {
    const rt = mintGrantToken(this.grantId);
    const jti = randomUUID();
    const decided = await this.grant(
      'refresh token rotated',
      {
        type: 'RotateRefreshToken',
        presentedHash: hashGrantToken(presented, this.secretHashKeys),
        clientId: this.owner.clientId,
        scope: undefined,
        clientScope: this.owner.scope,
        newHash: hashGrantToken(rt, this.secretHashKeys),
        idleTtlSeconds: 86_400,
        accessTokenJti: jti,
        reuseGraceSeconds: 0,
        presentedWasIssued: true,
        maxRotations: Number.MAX_SAFE_INTEGER,
        now: new Date(),
      },
      `client:${this.owner.clientId}`,
      { jti, grantType: 'refresh_token' },
    );
    if (decided) this.refreshTokens.push(rt);
  }

  /** The token service: a rotated refresh token presented again (reuse: the grant is revoked). */
  async reuse(presented = this.refreshTokens[0]!): Promise<void> {
    await this.grant(
      'refresh token reused',
      {
        type: 'RotateRefreshToken',
        presentedHash: hashGrantToken(presented, this.secretHashKeys),
        clientId: this.owner.clientId,
        scope: undefined,
        clientScope: this.owner.scope,
        newHash: hashGrantToken(mintGrantToken(this.grantId), this.secretHashKeys),
        idleTtlSeconds: 86_400,
        accessTokenJti: randomUUID(),
        reuseGraceSeconds: 0,
        presentedWasIssued: true,
        maxRotations: Number.MAX_SAFE_INTEGER,
        now: new Date(),
      },
      `client:${this.owner.clientId}`,
    );
  }

  /** Runs a grant command and appends its events (with the access token's, when it issues one). */
  private async grant(
    name: string,
    command: GrantCommand,
    actor: string,
    accessToken?: { jti: string; grantType: string },
  ): Promise<boolean> {
    const decision = decideGrant(command, this.state);
    if (decision.events.length === 0) throw decision.refusal ?? new Error(`${name}: nothing decided`);
    const requests: AppendRequest[] = [
      {
        streamId: grantStreamId(this.grantId),
        expectedVersion: this.version,
        events: this.by(decision.events, actor),
      },
    ];
    const issues = accessToken !== undefined && decision.refusal === null;
    if (issues) {
      const { clientId, sub, username, scope, aud } = this.owner;
      const ttl = this.options.accessTokenTtlSeconds ?? 600;
      const events = decideAccessToken(
        {
          type: 'IssueAccessToken',
          jti: accessToken.jti,
          clientId,
          sub,
          aud,
          scope,
          grantType: accessToken.grantType,
          grantId: this.grantId,
          username,
          now: new Date(),
          ttlSeconds: ttl,
          kid: this.options.kid ?? 'scripted',
        },
        initialAccessTokenState(),
      );
      const data = events[0]!.data as { iat: number; exp: number };
      this.accessTokens.push({ jti: accessToken.jti, iat: data.iat, exp: data.exp });
      requests.push({
        streamId: accessTokenStreamId(accessToken.jti),
        expectedVersion: 0,
        events: this.by(events, actor),
      });
    }
    const [result] = await this.store.appendMany(requests);
    for (const e of result!.events) this.state = foldEvents(GRANT_FOLD, [e], this.state);
    this.version = result!.nextExpectedVersion;
    this.step(name, result!.events);
    return issues;
  }

  private by(events: NewEvent[], actor: string): NewEvent[] {
    return events.map((e) => ({ ...e, metadata: { correlationId: randomUUID(), actor } }));
  }

  private step(name: string, events: RecordedEvent[]): void {
    const last = events[events.length - 1]!;
    this.steps.push({ name, at: last.recordedAt, position: last.globalPosition });
  }
}

/** The whole life of the acceptance scenario: consent, code, redemption, three rotations, a reuse (revocation). */
export async function scriptGrantLife(grant: ScriptedGrant, pauseMs = 5): Promise<ScriptedGrant> {
  const pause = () => new Promise((r) => setTimeout(r, pauseMs));
  await grant.consent();
  await pause();
  await grant.issueCode();
  await pause();
  await grant.redeem();
  for (let i = 0; i < 3; i++) {
    await pause();
    await grant.rotate();
  }
  await pause();
  await grant.reuse();
  return grant;
}
