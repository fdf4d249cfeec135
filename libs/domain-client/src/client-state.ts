import { openIdMetadataOf } from './openid-metadata.js';
import type { ClientView } from '#lib/contracts';
import type { StreamFold } from '#lib/event-store';
import type { Recorded } from '#lib/decider';
import { OAuthError } from '#lib/oauth-errors';
import { CLIENT_UPCASTERS, type ClientEvent, type ClientRegistered } from './client-events.js';
import { type ClientMetadata, usesSecret } from './client-metadata.js';

// ---- state ----

export type ClientStatus = 'active' | 'disabled';

export type ClientState =
  | { status: 'unregistered' }
  | { status: 'deleted'; clientId: string }
  | (ClientMetadata & {
      status: ClientStatus;
      clientId: string;
      /** Privileged scopes an administrator granted (never in the metadata's `scope`). */
      privilegedScopes: string[];
      secretHash: string | null;
      /** RFC 7591 §3.2.1: when the current secret stops authenticating; null: never. */
      secretExpiresAt: string | null;
      previousSecretHash: string | null;
      previousSecretValidUntil: string | null;
      registrationAccessTokenHash: string | null;
      registeredAt: string | null;
    });

export type KnownClientState = Extract<ClientState, { status: ClientStatus }>;

export const initialClientState = (): ClientState => ({ status: 'unregistered' });

export function isKnownClient(state: ClientState): state is KnownClientState {
  return state.status === 'active' || state.status === 'disabled';
}

export class ClientAlreadyRegistered extends OAuthError {
  constructor(clientId: string) {
    super('invalid_client_metadata', `client_id already registered: ${clientId}`);
  }
}

export class ClientNotRegistered extends OAuthError {
  constructor() {
    super('not_found', 'no such client');
  }
}

/** Events written before a field existed read with that field's default. */
function metadataFrom(data: ClientRegistered['data']): ClientMetadata {
  return {
    clientName: data.clientName,
    tokenEndpointAuthMethod: data.tokenEndpointAuthMethod,
    grantTypes: data.grantTypes,
    responseTypes: data.responseTypes ?? (data.grantTypes.includes('authorization_code') ? ['code'] : []),
    redirectUris: data.redirectUris ?? [],
    scope: data.scope,
    defaultScope: data.defaultScope,
    audience: data.audience,
    clientUri: data.clientUri ?? null,
    logoUri: data.logoUri ?? null,
    contacts: data.contacts ?? [],
    requirePkce: data.requirePkce ?? true,
    refreshTokenReuseGraceSeconds: data.refreshTokenReuseGraceSeconds ?? 0,
    accessTokenTtlSeconds: data.accessTokenTtlSeconds ?? null,
    refreshTokenTtlSeconds: data.refreshTokenTtlSeconds ?? null,
    jwks: data.jwks ?? null,
    jwksUri: data.jwksUri ?? null,
    ...openIdMetadataOf(data),
  };
}

/** Folds one client event in its current shape (CLIENT_FOLD upcasts older ones first). */
export function evolveClient(state: ClientState, e: Recorded<ClientEvent>): ClientState {
  switch (e.type) {
    case 'ClientRegistered':
      return {
        status: 'active',
        clientId: e.data.clientId,
        privilegedScopes: [],
        ...metadataFrom(e.data),
        secretHash: e.data.secretHash,
        secretExpiresAt: e.data.secretExpiresAt ?? null,
        previousSecretHash: null,
        previousSecretValidUntil: null,
        registrationAccessTokenHash: e.data.registrationAccessTokenHash ?? null,
        registeredAt: e.data.registeredAt ?? null,
      };
    case 'ClientUpdated': {
      if (!isKnownClient(state)) return state;
      const { clientId: _c, updatedAt: _u, ...metadata } = e.data;
      return { ...state, ...metadata };
    }
    case 'ClientSecretRotated': {
      if (!isKnownClient(state)) return state;
      const until = e.data.previousSecretValidUntil ?? null;
      return {
        ...state,
        secretHash: e.data.secretHash,
        secretExpiresAt: e.data.secretExpiresAt ?? null,
        previousSecretHash: until === null ? null : state.secretHash,
        previousSecretValidUntil: until,
      };
    }
    case 'ClientPrivilegeGranted':
      if (!isKnownClient(state) || state.privilegedScopes.includes(e.data.scope)) return state;
      return { ...state, privilegedScopes: [...state.privilegedScopes, e.data.scope] };
    case 'ClientPrivilegeRevoked':
      if (!isKnownClient(state)) return state;
      return { ...state, privilegedScopes: state.privilegedScopes.filter((s) => s !== e.data.scope) };
    case 'ClientDisabled':
      return isKnownClient(state) ? { ...state, status: 'disabled' } : state;
    case 'ClientDeleted':
      return isKnownClient(state) ? { status: 'deleted', clientId: state.clientId } : state;
    default: {
      const unknown: never = e;
      void unknown;
      return state;
    }
  }
}

/** How `client-*` streams are folded: events are upcast to their current shape, then evolved. */
export const CLIENT_FOLD: StreamFold<ClientState> = {
  evolve: evolveClient,
  initial: initialClientState,
  upcasters: CLIENT_UPCASTERS,
};

export function clientView(state: ClientState): ClientView {
  if (!isKnownClient(state)) throw new ClientNotRegistered();
  const scope = new Set([...state.scope, ...state.privilegedScopes]);
  const view: ClientView = {
    clientId: state.clientId,
    clientName: state.clientName,
    status: state.status,
    tokenEndpointAuthMethod: state.tokenEndpointAuthMethod,
    grantTypes: state.grantTypes,
    // What the client may request: its registered scope and the privileged scopes granted to it.
    scope: [...scope],
    privilegedScopes: state.privilegedScopes,
    defaultScope: state.defaultScope.filter((s) => scope.has(s)),
    audience: state.audience,
    redirectUris: state.redirectUris,
    responseTypes: state.responseTypes,
    clientUri: state.clientUri,
    logoUri: state.logoUri,
    contacts: state.contacts,
    requirePkce: state.requirePkce,
    refreshTokenReuseGraceSeconds: state.refreshTokenReuseGraceSeconds,
    jwks: state.jwks,
    jwksUri: state.jwksUri,
    ...openIdMetadataOf(state),
  };
  if (state.accessTokenTtlSeconds !== null) view.accessTokenTtlSeconds = state.accessTokenTtlSeconds;
  if (state.refreshTokenTtlSeconds !== null) view.refreshTokenTtlSeconds = state.refreshTokenTtlSeconds;
  if (state.registeredAt !== null) view.registeredAt = state.registeredAt;
  if (usesSecret(state.tokenEndpointAuthMethod)) view.secretExpiresAt = state.secretExpiresAt;
  return view;
}
