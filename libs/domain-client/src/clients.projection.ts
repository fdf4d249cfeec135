import { openIdMetadataOf } from './openid-metadata.js';
import type { ClientView } from '#lib/contracts';
import { foldEvents, type Projection, type RecordedEvent } from '#lib/event-store';
import { CLIENT_EVENT_TYPES } from './client-events.js';
import { CLIENT_FOLD, clientView, initialClientState, type ClientState } from './client-state.js';

/** The current clients, one row per client_id (the admin API's list); deleted clients leave it. */
export const CLIENTS = 'clients';

const types: ReadonlySet<string> = new Set(CLIENT_EVENT_TYPES);

/** The row keeps the fold state minus secrets, so that evolve stays the decider's evolve. */
export type ClientRow = ClientView;

export const clientsProjection: Projection<ClientRow> = {
  name: CLIENTS,
  eventTypes: CLIENT_EVENT_TYPES,
  keyOf(event: RecordedEvent): string | null {
    if (!types.has(event.type)) return null;
    const id = (event.data as { clientId?: unknown }).clientId;
    return typeof id === 'string' ? id : null;
  },
  evolve(row: ClientRow | null, event: RecordedEvent): ClientRow | null {
    const before: ClientState = row === null ? initialClientState() : fromRow(row);
    const after = foldEvents(CLIENT_FOLD, [event], before);
    if (after.status !== 'active' && after.status !== 'disabled') return null;
    return clientView(after);
  },
};

function fromRow(row: ClientRow): ClientState {
  const privilegedScopes = row.privilegedScopes ?? [];
  return {
    status: row.status,
    clientId: row.clientId,
    clientName: row.clientName,
    tokenEndpointAuthMethod: row.tokenEndpointAuthMethod,
    grantTypes: row.grantTypes,
    scope: row.scope.filter((s) => !privilegedScopes.includes(s)),
    privilegedScopes,
    defaultScope: row.defaultScope,
    audience: row.audience,
    responseTypes: row.responseTypes ?? [],
    redirectUris: row.redirectUris ?? [],
    clientUri: row.clientUri ?? null,
    logoUri: row.logoUri ?? null,
    contacts: row.contacts ?? [],
    requirePkce: row.requirePkce ?? true,
    refreshTokenReuseGraceSeconds: row.refreshTokenReuseGraceSeconds ?? 0,
    accessTokenTtlSeconds: row.accessTokenTtlSeconds ?? null,
    refreshTokenTtlSeconds: row.refreshTokenTtlSeconds ?? null,
    jwks: row.jwks ?? null,
    jwksUri: row.jwksUri ?? null,
    ...openIdMetadataOf(row),
    // Secrets are not part of the row; the projection never needs them.
    secretHash: null,
    secretExpiresAt: row.secretExpiresAt ?? null,
    previousSecretHash: null,
    previousSecretValidUntil: null,
    registrationAccessTokenHash: null,
    registeredAt: row.registeredAt ?? null,
  };
}
