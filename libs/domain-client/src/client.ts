import type { ClientView, PresentedClientCredentials, TokenEndpointAuthMethod } from '#lib/contracts';
import type { NewEvent, RecordedEvent } from '#lib/event-store';
import { invalidClient, OAuthError } from '#lib/oauth-errors';
import { isValidScopeToken } from '#lib/oauth-protocol';
import { secretMatches } from './secret.js';

/** One stream per client: `client-<client_id>`. */
export const clientStreamId = (clientId: string) => `client-${clientId}`;

export const SUPPORTED_GRANT_TYPES = ['client_credentials', 'authorization_code', 'refresh_token'] as const;

// ---- events (past tense; data never holds a secret, only its hash) ----

export interface ClientRegistered {
  type: 'ClientRegistered';
  data: {
    clientId: string;
    clientName: string;
    tokenEndpointAuthMethod: TokenEndpointAuthMethod;
    grantTypes: string[];
    scope: string[];
    defaultScope: string[];
    audience: string[];
    secretHash: string | null;
    registeredAt: string;
  };
}

export interface ClientSecretRotated {
  type: 'ClientSecretRotated';
  data: { clientId: string; secretHash: string; rotatedAt: string };
}

export type ClientEvent = ClientRegistered | ClientSecretRotated;

// ---- commands (time and generated values come in; decide never reads a clock) ----

export interface RegisterClient {
  type: 'RegisterClient';
  clientId: string;
  clientName: string;
  tokenEndpointAuthMethod: TokenEndpointAuthMethod;
  grantTypes: string[];
  scope: string[];
  defaultScope: string[];
  audience: string[];
  secretHash: string | null;
  now: Date;
}

export interface RotateClientSecret {
  type: 'RotateClientSecret';
  secretHash: string;
  now: Date;
}

export type ClientCommand = RegisterClient | RotateClientSecret;

// ---- state ----

export type ClientState =
  | { status: 'unregistered' }
  | {
      status: 'active';
      clientId: string;
      clientName: string;
      tokenEndpointAuthMethod: TokenEndpointAuthMethod;
      grantTypes: string[];
      scope: string[];
      defaultScope: string[];
      audience: string[];
      secretHash: string | null;
    };

export const initialClientState = (): ClientState => ({ status: 'unregistered' });

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

function metadataError(description: string): OAuthError {
  return new OAuthError('invalid_client_metadata', description);
}

/** RFC 7591 §2 metadata rules that the skeleton enforces. */
function checkRegistration(c: RegisterClient): void {
  if (!/^[\x21-\x7e]{1,128}$/.test(c.clientId))
    throw metadataError('client_id must be 1 to 128 visible ASCII characters');
  if (c.clientName.trim() === '' || c.clientName.length > 200)
    throw metadataError('client_name must be 1 to 200 characters');
  if (c.grantTypes.length === 0) throw metadataError('grant_types must not be empty');
  for (const g of c.grantTypes) {
    // OAuth 2.1 §10.1, RFC 9700 §2.4: implicit and password grants are not offered.
    if (!(SUPPORTED_GRANT_TYPES as readonly string[]).includes(g))
      throw metadataError(`grant type not supported: ${g}`);
  }
  for (const s of [...c.scope, ...c.defaultScope]) {
    if (!isValidScopeToken(s)) throw metadataError(`invalid scope token: ${s}`);
  }
  const allowed = new Set(c.scope);
  if (c.defaultScope.some((s) => !allowed.has(s)))
    throw metadataError('default scope must be within the allowed scope');
  const isPublic = c.tokenEndpointAuthMethod === 'none';
  // RFC 6749 §4.4: client credentials are for confidential clients only.
  if (isPublic && c.grantTypes.includes('client_credentials')) {
    throw metadataError('a public client cannot use client_credentials');
  }
  if (isPublic !== (c.secretHash === null))
    throw metadataError('a secret goes with a confidential client only');
  for (const a of c.audience) {
    if (a.length === 0 || a.length > 500) throw metadataError('audience entries must be 1 to 500 characters');
  }
}

export function decideClient(command: ClientCommand, state: ClientState): NewEvent[] {
  switch (command.type) {
    case 'RegisterClient': {
      if (state.status !== 'unregistered') throw new ClientAlreadyRegistered(command.clientId);
      checkRegistration(command);
      const event: ClientRegistered = {
        type: 'ClientRegistered',
        data: {
          clientId: command.clientId,
          clientName: command.clientName,
          tokenEndpointAuthMethod: command.tokenEndpointAuthMethod,
          grantTypes: [...new Set(command.grantTypes)],
          scope: [...new Set(command.scope)],
          defaultScope: [...new Set(command.defaultScope)],
          audience: [...new Set(command.audience)],
          secretHash: command.secretHash,
          registeredAt: command.now.toISOString(),
        },
      };
      return [event];
    }
    case 'RotateClientSecret': {
      if (state.status === 'unregistered') throw new ClientNotRegistered();
      if (state.tokenEndpointAuthMethod === 'none') throw metadataError('a public client has no secret');
      const event: ClientSecretRotated = {
        type: 'ClientSecretRotated',
        data: {
          clientId: state.clientId,
          secretHash: command.secretHash,
          rotatedAt: command.now.toISOString(),
        },
      };
      return [event];
    }
    default: {
      const unknown: never = command;
      throw new Error(`unknown command ${(unknown as { type: string }).type}`);
    }
  }
}

export function evolveClient(state: ClientState, event: RecordedEvent): ClientState {
  const e = event as unknown as ClientEvent;
  switch (e.type) {
    case 'ClientRegistered':
      return {
        status: 'active',
        clientId: e.data.clientId,
        clientName: e.data.clientName,
        tokenEndpointAuthMethod: e.data.tokenEndpointAuthMethod,
        grantTypes: e.data.grantTypes,
        scope: e.data.scope,
        defaultScope: e.data.defaultScope,
        audience: e.data.audience,
        secretHash: e.data.secretHash,
      };
    case 'ClientSecretRotated':
      return state.status === 'unregistered' ? state : { ...state, secretHash: e.data.secretHash };
    default: {
      const unknown: never = e;
      void unknown;
      return state;
    }
  }
}

export function clientView(state: ClientState): ClientView {
  if (state.status === 'unregistered') throw new ClientNotRegistered();
  return {
    clientId: state.clientId,
    clientName: state.clientName,
    status: state.status,
    tokenEndpointAuthMethod: state.tokenEndpointAuthMethod,
    grantTypes: state.grantTypes,
    scope: state.scope,
    defaultScope: state.defaultScope,
    audience: state.audience,
  };
}

/**
 * Client authentication (RFC 6749 §2.3.1, §5.2): unknown client, wrong secret and the wrong
 * method all answer the same invalid_client, so the response does not tell which one it was.
 * Checklist decision 7: the registered token_endpoint_auth_method is enforced.
 */
const DUMMY_HASH = 'A'.repeat(43);

export function authenticateClient(
  state: ClientState,
  presented: PresentedClientCredentials,
  pepper: Buffer,
): ClientView {
  const challenge =
    presented.method === 'client_secret_basic'
      ? { 'WWW-Authenticate': 'Basic realm="token", charset="UTF-8"' }
      : undefined;
  const fail = (detail: string) =>
    invalidClient('client authentication failed', { detail, headers: challenge });
  if (state.status !== 'active') {
    // Checklist CAUTH-20: an unknown client costs the same HMAC as a known one.
    secretMatches(presented.clientSecret ?? '', DUMMY_HASH, pepper);
    throw fail('unknown client');
  }
  if (state.tokenEndpointAuthMethod !== presented.method) throw fail('authentication method not registered');
  if (presented.method !== 'none') {
    if (state.secretHash === null || presented.clientSecret === undefined) throw fail('no secret');
    if (!secretMatches(presented.clientSecret, state.secretHash, pepper)) throw fail('wrong secret');
  }
  return clientView(state);
}
