import {
  eventMetadata,
  type IssueAuthorizationCodeRequest,
  type IssueAuthorizationCodeResponse,
  type RevokeUserGrantsRequest,
  type RevokeUserGrantsResponse,
} from '#lib/contracts';
import { decideGrant, GRANT_FOLD, grantStreamId, initialGrantState, openIdFacts } from '#lib/domain-grant';
import { type EventStore, isExpectedVersionConflict, loadAggregate } from '#lib/event-store';
import { invalidRequest } from '#lib/oauth-errors';
import { MAX_CLAIMS_PER_MEMBER } from '#lib/oauth-protocol';

/**
 * The grant commands another service sends the token service, owner of every `grant-*` stream:
 * consent asks for the code a user approved, and for the revocation of a user's grants. Each is
 * decided by the grant decider here and appended here, with the actor and correlation the asking
 * service verified and sent.
 */

const MAX_GRANTS_PER_REQUEST = 10_000;

const isString = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 2048;
const isStringList = (v: unknown): v is string[] => Array.isArray(v) && v.every(isString);

/**
 * RFC 6749 §4.1.2: records the authorization code (its hash) on a new grant stream. The grant id is
 * the authorization transaction's: a second code for one transaction is a conflict on the stream's
 * first version, answered `already-issued` (RFC 6749 §10.5: a code is issued once).
 */
export async function issueAuthorizationCode(
  store: EventStore,
  request: IssueAuthorizationCodeRequest,
  settings: { ttlSeconds: number; now: Date },
): Promise<IssueAuthorizationCodeResponse> {
  checkIssueRequest(request);
  const { events } = decideGrant(
    {
      type: 'IssueAuthorizationCode',
      grantId: request.grantId,
      clientId: request.clientId,
      sub: request.sub,
      ...(request.username !== undefined ? { username: request.username } : {}),
      scope: request.scope,
      ...(request.resource !== undefined && request.resource.length > 0
        ? { resource: request.resource }
        : {}),
      redirectUri: request.redirectUri,
      deliveredTo: request.deliveredTo,
      codeChallenge: request.codeChallenge,
      codeHash: request.codeHash,
      authTime: request.authTime,
      ...openIdFacts(request),
      now: settings.now,
      ttlSeconds: settings.ttlSeconds,
    },
    initialGrantState(),
  );
  const metadata = eventMetadata(request.context, request.actor);
  const streamId = grantStreamId(request.grantId);
  try {
    await store.appendToStream(
      streamId,
      0,
      events.map((e) => ({ ...e, metadata })),
    );
  } catch (err) {
    if (isExpectedVersionConflict(err) && err.streamId === streamId) return { outcome: 'already-issued' };
    throw err;
  }
  return { outcome: 'issued' };
}

function checkIssueRequest(r: IssueAuthorizationCodeRequest): void {
  const ok =
    typeof r === 'object' &&
    r !== null &&
    isString(r.actor) &&
    isString(r.grantId) &&
    isString(r.clientId) &&
    isString(r.sub) &&
    (r.username === undefined || isString(r.username)) &&
    isStringList(r.scope) &&
    (r.resource === undefined || isStringList(r.resource)) &&
    (r.redirectUri === null || isString(r.redirectUri)) &&
    isString(r.deliveredTo) &&
    (r.codeChallenge === null || isString(r.codeChallenge)) &&
    isString(r.codeHash) &&
    Number.isInteger(r.authTime) &&
    (r.nonce === undefined || isString(r.nonce)) &&
    (r.sid === undefined || isString(r.sid)) &&
    (r.amr === undefined || isStringList(r.amr)) &&
    (r.acr === undefined || isString(r.acr)) &&
    (r.claims === undefined || isClaimNames(r.claims));
  if (!ok) throw invalidRequest('malformed authorization code request');
}

/** OpenID Connect Core §5.5: the claim names of each member, as many as the parser lets through. */
function isClaimNames(c: unknown): boolean {
  if (typeof c !== 'object' || c === null) return false;
  const { userinfo, idToken } = c as { userinfo?: unknown; idToken?: unknown };
  return [userinfo, idToken].every((names) => isStringList(names) && names.length <= MAX_CLAIMS_PER_MEMBER);
}

/**
 * GrantRevoked on each listed grant that is live and is the user's (and, with a client id, that
 * client's): a grant of someone else in the list is left alone. Safe to re-decide on a conflict
 * (a rotation or another revocation won): the next read decides again.
 */
export async function revokeUserGrants(
  store: EventStore,
  request: RevokeUserGrantsRequest,
  now: () => Date,
): Promise<RevokeUserGrantsResponse> {
  checkRevokeRequest(request);
  const metadata = eventMetadata(request.context, request.actor);
  let revoked = 0;
  for (const grantId of new Set(request.grantIds)) {
    for (let attempt = 0; ; attempt++) {
      const streamId = grantStreamId(grantId);
      const { state, version } = await loadAggregate(store, streamId, GRANT_FOLD);
      if (state.status === 'none' || state.status === 'revoked') break;
      if (state.grant.sub !== request.sub) break;
      if (request.clientId !== null && state.grant.clientId !== request.clientId) break;
      const { events } = decideGrant(
        { type: 'RevokeGrant', reason: request.reason, revokedBy: request.actor, now: now() },
        state,
      );
      if (events.length === 0) break;
      try {
        await store.appendToStream(
          streamId,
          version,
          events.map((e) => ({ ...e, metadata })),
        );
        revoked++;
        break;
      } catch (err) {
        if (!isExpectedVersionConflict(err) || attempt >= 3) throw err;
      }
    }
  }
  return { revoked };
}

function checkRevokeRequest(r: RevokeUserGrantsRequest): void {
  const ok =
    typeof r === 'object' &&
    r !== null &&
    isString(r.actor) &&
    isString(r.sub) &&
    (r.clientId === null || isString(r.clientId)) &&
    (r.reason === 'user_disabled' || r.reason === 'consent_revoked') &&
    isStringList(r.grantIds) &&
    r.grantIds.length <= MAX_GRANTS_PER_REQUEST;
  if (!ok) throw invalidRequest('malformed grant revocation request');
}
