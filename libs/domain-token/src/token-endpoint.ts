import type { ClientView, TokenResponse } from '#lib/contracts';
import { evolveGrant, grantStreamId, initialGrantState, mintGrantToken } from '#lib/domain-grant';
import {
  aggregateStream,
  type AppendRequest,
  type EventMetadata,
  type EventStore,
  isExpectedVersionConflict,
  type StreamExpectation,
} from '#lib/event-store';
import { invalidGrant } from '#lib/oauth-errors';
import { formatScope } from '#lib/oauth-protocol';
import { randomBytes } from 'node:crypto';
import { accessTokenStreamId, decideAccessToken, initialAccessTokenState } from './access-token.js';
import { type GrantContext, type GrantStreamReader, isRefusal } from './grants/grant-handler.js';
import type { GrantRegistry } from './grants/grant-registry.js';

/** The active signing key, as the token service's keyring hands it out. */
export interface AccessTokenSigner {
  kid: string;
  sign(claims: AccessTokenJwtClaims): Promise<string>;
}

/** RFC 9068 §2.2 (and §2.2.3 for scope). */
export interface AccessTokenJwtClaims {
  iss: string;
  sub: string;
  aud: string | string[];
  exp: number;
  iat: number;
  jti: string;
  client_id: string;
  scope: string;
}

export interface TokenEndpointRequest {
  client: ClientView;
  parameters: Readonly<Record<string, string>>;
  resources: readonly string[];
  correlationId: string;
  /**
   * Streams the decision rests on without writing to them (the client, as its authentication read
   * it): every append carries them as preconditions, and a conflict on one of them is thrown to the
   * caller, not retried here.
   */
  expect?: readonly StreamExpectation[];
}

/** How often a grant is re-read and re-decided after losing a race (ExpectedVersionConflict). */
export const MAX_GRANT_ATTEMPTS = 8;

/**
 * The token endpoint's use case once the client is authenticated (RFC 6749 §3.2, §5.1): the grant's
 * handler decides, then ONE atomic append records the grant-stream events with the access token's
 * AccessTokenIssued, then the token is signed. A token leaves only after its events are committed
 * (ARCHITECTURE.md: security-relevant reads are never stale). Hot path: one read of the grant
 * stream (code and refresh grants), one append.
 */
export class TokenEndpoint {
  private readonly reader: GrantStreamReader;

  constructor(
    private readonly store: EventStore,
    private readonly grants: GrantRegistry,
    private readonly issuer: string,
    private readonly clock: () => Date = () => new Date(),
  ) {
    this.reader = {
      load: (grantId) => aggregateStream(store, grantStreamId(grantId), evolveGrant, initialGrantState),
    };
  }

  async exchange(request: TokenEndpointRequest, signer: AccessTokenSigner): Promise<TokenResponse> {
    const handler = this.grants.resolve(request.parameters.grant_type);
    const metadata: EventMetadata = {
      correlationId: request.correlationId,
      actor: `client:${request.client.clientId}`,
    };
    const withMetadata = (r: AppendRequest): AppendRequest => ({
      ...r,
      events: r.events.map((e) => ({ ...e, metadata })),
    });
    for (let attempt = 1; ; attempt++) {
      const context: GrantContext = {
        client: request.client,
        parameters: request.parameters,
        resources: request.resources,
        now: this.clock(),
        jti: randomBytes(16).toString('base64url'),
        kid: signer.kid,
        grants: this.reader,
        newGrantToken: mintGrantToken,
      };
      const decision = await handler.handle(context);
      if (isRefusal(decision)) {
        // A refusal that must be recorded (a replayed code, a reused refresh token).
        if (await this.append([withMetadata(decision.append)], request.expect, attempt))
          throw decision.refusal;
        continue;
      }
      const { issue } = decision;
      const appends: AppendRequest[] = [];
      if (decision.append && decision.append.events.length > 0) appends.push(withMetadata(decision.append));
      appends.push(
        withMetadata({
          streamId: accessTokenStreamId(issue.jti),
          expectedVersion: 0,
          events: decideAccessToken(issue, initialAccessTokenState()),
        }),
      );
      if (!(await this.append(appends, request.expect, attempt))) continue;
      const iat = Math.floor(issue.now.getTime() / 1000);
      // RFC 9068 §2.2: iss, exp, aud, sub, client_id, iat, jti; §2.2.3: scope.
      const accessToken = await signer.sign({
        iss: this.issuer,
        sub: issue.sub,
        aud: issue.aud.length === 1 ? issue.aud[0]! : issue.aud,
        exp: iat + issue.ttlSeconds,
        iat,
        jti: issue.jti,
        client_id: issue.clientId,
        scope: formatScope(issue.scope),
      });
      return {
        access_token: accessToken,
        token_type: 'Bearer',
        expires_in: issue.ttlSeconds,
        // RFC 6749 §5.1: scope is returned always, so the client need not compare.
        scope: formatScope(issue.scope),
        ...(decision.refreshToken !== undefined ? { refresh_token: decision.refreshToken } : {}),
      };
    }
  }

  /**
   * One atomic append; false when the grant changed since it was read (ExpectedVersionConflict):
   * the caller re-reads and re-decides (decisions 4 and 5). A moved `expect` stream is the caller's
   * to handle.
   */
  private async append(
    requests: AppendRequest[],
    expect: readonly StreamExpectation[] | undefined,
    attempt: number,
  ): Promise<boolean> {
    try {
      await this.store.appendMany(requests, expect === undefined ? undefined : { expect });
      return true;
    } catch (err) {
      if (!isExpectedVersionConflict(err)) throw err;
      if (expect?.some((x) => x.streamId === err.streamId)) throw err;
      if (attempt >= MAX_GRANT_ATTEMPTS) {
        throw invalidGrant('the grant was used concurrently', {
          detail: `gave up after ${attempt} attempts`,
        });
      }
      return false;
    }
  }
}
