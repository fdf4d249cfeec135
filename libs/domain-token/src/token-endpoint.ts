import type { AccessTokenClaims, ClientView, TokenResponse } from '#lib/contracts';
import { GRANT_FOLD, grantStreamId, mintGrantToken } from '#lib/domain-grant';
import {
  type AppendRequest,
  type EventMetadata,
  type EventStore,
  isExpectedVersionConflict,
  keepSnapshot,
  loadAggregate,
  type StreamExpectation,
  timeOrderedId,
  foldEvents,
} from '#lib/event-store';
import { invalidGrant } from '#lib/oauth-errors';
import { formatScope, type IdTokenSigningAlg } from '#lib/oauth-protocol';
import { accessTokenStreamId, decideAccessToken, initialAccessTokenState } from './access-token.js';
import { isRefreshTokenOfFamily } from './refresh-token-introspection.js';
import { type CachedGrant, GrantStateCache } from './grant-state-cache.js';
import {
  type GrantContext,
  type GrantIssue,
  type GrantStreamReader,
  isRefusal,
} from './grants/grant-handler.js';
import type { GrantRegistry } from './grants/grant-registry.js';
import { accessTokenHash, type IdTokenClaims, type IdTokenPlan } from './id-token.js';

/** The active signing key, as the token service's keyring hands it out. */
export interface AccessTokenSigner {
  kid: string;
  sign(claims: AccessTokenClaims): Promise<string>;
  /** OpenID Connect Core §2: signs with the active ID-token key of `alg` (typ JWT). */
  signIdToken?(alg: IdTokenSigningAlg, claims: IdTokenClaims): Promise<string>;
  /**
   * OpenID Connect Core §5.5: the named user claims of `sub` that the user has (userClaims), for
   * an ID token whose grant's request asked for them; none when the user is not active.
   */
  idTokenUserClaims?(sub: string, names: readonly string[]): Promise<Record<string, unknown>>;
}

export interface TokenEndpointRequest {
  client: ClientView;
  parameters: Readonly<Record<string, string>>;
  resources: readonly string[];
  correlationId: string;
  /** The caller's own request id (untrusted, libs/contracts RequestContext), recorded beside it. */
  callerRequestId?: string;
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
 * stream for a code, none for a refresh whose grant is in the GrantStateCache (the append's expected
 * version confirms it), one append. A grant is read from its snapshot and the events after it
 * (loadAggregate), so no request replays a long family; a refusal decided on a cached grant is
 * confirmed by the stream's version (one indexed probe), and re-read only when the stream moved:
 * at most one read per stream version, however many bogus tokens name the grant.
 */
export class TokenEndpoint {
  constructor(
    private readonly store: EventStore,
    private readonly grants: GrantRegistry,
    private readonly issuer: string,
    private readonly clock: () => Date = () => new Date(),
    private readonly cache: GrantStateCache = new GrantStateCache(),
  ) {}

  private readonly loading = new Map<string, Promise<CachedGrant>>();

  /**
   * A reader for one attempt: from the cache unless `fromStore`, recording what it handed out (by
   * stream id) so that the append can confirm it and the cache can follow the append.
   */
  private readerFor(fromStore: boolean, reads: Map<string, GrantRead>): GrantStreamReader {
    return {
      load: async (grantId) => {
        const streamId = grantStreamId(grantId);
        const hit = fromStore ? undefined : this.cache.get(grantId);
        // A read this request joined began before it: confirmed like a cached one (a refusal by the
        // stream's version, an issue by the append's expected version).
        const joined = hit === undefined && this.loading.has(grantId);
        const read = hit ?? (await this.loadGrantOnce(grantId));
        reads.set(streamId, { grantId, ...read, cached: hit !== undefined || joined });
        return read;
      },
      isOfFamily: (state, tokenHash) => isRefreshTokenOfFamily(this.store, state, tokenHash),
    };
  }

  /** Concurrent reads of one grant (a burst of tokens naming it) share one read of the store. */
  private loadGrantOnce(grantId: string): Promise<CachedGrant> {
    let pending = this.loading.get(grantId);
    if (pending === undefined) {
      pending = loadAggregate(this.store, grantStreamId(grantId), GRANT_FOLD)
        .then((read) => {
          if (read.version > 0) this.cache.set(grantId, read);
          return read;
        })
        .finally(() => this.loading.delete(grantId));
      this.loading.set(grantId, pending);
    }
    return pending;
  }

  /** Whether every cached grant a decision rested on is still at the version it was cached at. */
  private async cachedReadsCurrent(reads: Map<string, GrantRead>): Promise<boolean> {
    const cached = [...reads].filter(([, read]) => read.cached);
    const versions = await this.store.streamVersions(cached.map(([streamId]) => streamId));
    return cached.every(([streamId, read]) => versions.get(streamId) === read.version);
  }

  async exchange(request: TokenEndpointRequest, signer: AccessTokenSigner): Promise<TokenResponse> {
    const handler = this.grants.resolve(request.parameters.grant_type);
    const metadata: EventMetadata = {
      correlationId: request.correlationId,
      ...(request.callerRequestId ? { callerRequestId: request.callerRequestId } : {}),
      actor: `client:${request.client.clientId}`,
    };
    const withMetadata = (r: AppendRequest): AppendRequest => ({
      ...r,
      events: r.events.map((e) => ({ ...e, metadata })),
    });
    let fromStore = false;
    for (let attempt = 1; ; attempt++) {
      const reads = new Map<string, GrantRead>();
      const context: GrantContext = {
        client: request.client,
        parameters: request.parameters,
        resources: request.resources,
        now: this.clock(),
        jti: timeOrderedId(),
        kid: signer.kid,
        grants: this.readerFor(fromStore, reads),
        newGrantToken: mintGrantToken,
      };
      let decision;
      try {
        decision = await handler.handle(context);
      } catch (err) {
        if (!anyCached(reads)) throw err;
        // A refusal is decided on the store, never on the cache alone: the cached state stands
        // when its stream has not moved since.
        if (await this.cachedReadsCurrent(reads)) throw err;
        this.forget(reads);
        fromStore = true;
        continue;
      }
      if (isRefusal(decision)) {
        // A refusal that must be recorded (a replayed code, a reused refresh token).
        const appends = [withMetadata(decision.append)];
        if (await this.append(appends, reads, request.expect, attempt)) throw decision.refusal;
        fromStore = true;
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
      if (!(await this.append(appends, reads, request.expect, attempt))) {
        fromStore = true;
        continue;
      }
      return this.respond(decision, signer);
    }
  }

  /** Signs what was committed: the access token, then the ID token that carries its hash. */
  private async respond(decision: GrantIssue, signer: AccessTokenSigner): Promise<TokenResponse> {
    const { issue } = decision;
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
      ...(decision.idToken !== undefined
        ? { id_token: await signIdToken(signer, decision.idToken, accessToken) }
        : {}),
    };
  }

  /**
   * One atomic append; false when the grant changed since it was read (ExpectedVersionConflict):
   * the caller re-reads and re-decides, so one redemption or rotation wins and the other is seen as
   * a replay (RFC 6749 §4.1.2, RFC 9700 §4.14.2). A moved `expect` stream is the caller's
   * to handle.
   */
  private async append(
    requests: AppendRequest[],
    reads: Map<string, GrantRead>,
    expect: readonly StreamExpectation[] | undefined,
    attempt: number,
  ): Promise<boolean> {
    // A cached grant the decision rests on but does not write to is confirmed as a precondition.
    const confirm: StreamExpectation[] = [...reads]
      .filter(([streamId, read]) => read.cached && !requests.some((r) => r.streamId === streamId))
      .map(([streamId, read]) => ({ streamId, version: read.version }));
    const preconditions = [...(expect ?? []), ...confirm];
    try {
      const results = await this.store.appendMany(
        requests,
        preconditions.length === 0 ? undefined : { expect: preconditions },
      );
      for (const result of results) {
        const read = reads.get(result.streamId);
        if (read === undefined) continue;
        let state = read.state;
        for (const event of result.events) state = foldEvents(GRANT_FOLD, [event], state);
        const folded = { state, version: result.nextExpectedVersion, snapshotVersion: read.snapshotVersion };
        this.cache.set(read.grantId, await keepSnapshot(this.store, result.streamId, GRANT_FOLD, folded));
      }
      return true;
    } catch (err) {
      this.forget(reads);
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

  private forget(reads: Map<string, GrantRead>): void {
    for (const read of reads.values()) this.cache.forget(read.grantId);
  }
}

interface GrantRead extends CachedGrant {
  grantId: string;
  cached: boolean;
}

const anyCached = (reads: Map<string, GrantRead>): boolean => [...reads.values()].some((read) => read.cached);

/** OpenID Connect Core §3.1.3.6: the ID token issued with `accessToken`, with its `at_hash` (§3.1.3.8). */
async function signIdToken(
  signer: AccessTokenSigner,
  plan: IdTokenPlan,
  accessToken: string,
): Promise<string> {
  if (signer.signIdToken === undefined) throw new Error('this signer cannot sign ID tokens');
  const user =
    plan.userClaims !== undefined && signer.idTokenUserClaims !== undefined
      ? await signer.idTokenUserClaims(plan.userClaims.sub, plan.userClaims.names)
      : {};
  // The user claims never replace a claim of the authentication (iss, sub, aud, nonce...).
  return signer.signIdToken(plan.alg, {
    ...user,
    ...plan.claims,
    at_hash: accessTokenHash(accessToken, plan.alg),
  });
}
