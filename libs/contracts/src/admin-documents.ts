import type { AuditEvent, InitialAccessTokenView } from './messages.js';
import type { ConsentView, SessionView, UserView } from './consent-messages.js';
import type { SigningKeyView } from './token-messages.js';

/**
 * The admin API's JSON representations (snake_case members, as RFC 7591 §2 names client
 * metadata) of the views the services return. The admin listener answers with them and the
 * operator CLI prints them (`--json`), so that both show one shape. Client metadata:
 * clientMetadataDocument (libs/domain-client).
 */
export function userDocument(u: UserView): Record<string, unknown> {
  return {
    sub: u.sub,
    username: u.username,
    email: u.email ?? null,
    name: u.name ?? null,
    status: u.status,
    created_at: u.createdAt,
  };
}

export function consentDocument(c: ConsentView): Record<string, unknown> {
  return { client_id: c.clientId, scope: c.scope.join(' '), granted_at: c.grantedAt };
}

export function sessionDocument(s: SessionView): Record<string, unknown> {
  return {
    sid: s.sid,
    auth_time: s.authTime,
    amr: s.amr,
    acr: s.acr,
    browser: s.userAgent.browser,
    os: s.userAgent.os,
    started_at: s.startedAt,
    last_used_at: s.lastUsedAt,
    expires_at: s.expiresAt,
    clients: s.clients,
  };
}

export function initialAccessTokenDocument(t: InitialAccessTokenView): Record<string, unknown> {
  return {
    id: t.id,
    created_at: t.createdAt,
    expires_at: t.expiresAt,
    max_uses: t.maxUses,
    uses: t.uses,
    status: t.status,
    ...(t.revokedAt !== undefined ? { revoked_at: t.revokedAt } : {}),
  };
}

export function signingKeyDocument(k: SigningKeyView): Record<string, unknown> {
  return {
    kid: k.kid,
    alg: k.alg,
    purpose: k.purpose ?? 'access_token',
    status: k.status,
    generated_at: k.generatedAt,
    activates_at: k.activatesAt,
    activated_at: k.activatedAt,
    retired_at: k.retiredAt,
    publish_until: k.publishUntil,
    in_jwks: k.inJwks,
  };
}

/**
 * One recorded event: its envelope in snake_case; `data` and `metadata` as recorded
 * (docs/events.md describes each event's payload).
 */
export function auditEventDocument(e: AuditEvent): Record<string, unknown> {
  return {
    position: e.position,
    stream_id: e.streamId,
    version: e.version,
    type: e.type,
    schema_version: e.schemaVersion,
    recorded_at: e.recordedAt,
    data: e.data,
    metadata: e.metadata,
  };
}
