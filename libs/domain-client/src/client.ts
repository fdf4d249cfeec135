import { accept, type Decider, type Decision, refuse } from '#lib/decider';
import { OAuthError } from '#lib/oauth-errors';
import {
  CLIENT_METADATA_SCHEMA_VERSION,
  type ClientDeleted,
  type ClientDisabled,
  type ClientPrivilegeGranted,
  type ClientPrivilegeRevoked,
  type ClientRegistered,
  type ClientSecretRotated,
  type ClientEvent,
  type ClientUpdated,
} from './client-events.js';
import {
  type ClientMetadataInput,
  type ClientMetadataRules,
  DEFAULT_CLIENT_METADATA_RULES,
  MAX_CLIENT_SECRET_TTL_SECONDS,
  MAX_SECRET_ROTATION_GRACE_SECONDS,
  normalizeMetadata,
  usesSecret,
} from './client-metadata.js';
import {
  ClientAlreadyRegistered,
  ClientNotRegistered,
  type ClientState,
  evolveClient,
  initialClientState,
  isKnownClient,
  type KnownClientState,
} from './client-state.js';
import { intIn, metadataError } from './metadata-checks.js';
import {
  checkRegistrationPolicy,
  privilegedScopesOf,
  type RegistrationOrigin,
} from './registration-policy.js';

/**
 * The client decider: one stream per client (`client-<client_id>`), its commands and what they
 * decide. Metadata rules: client-metadata.ts; events: client-events.ts; state and its fold:
 * client-state.ts; authentication: client-authentication.ts.
 */
/** One stream per client: `client-<client_id>`. */
export const clientStreamId = (clientId: string) => `client-${clientId}`;

// ---- commands (time and generated values come in; decide never reads a clock) ----

export type RegisterClient = ClientMetadataInput & {
  type: 'RegisterClient';
  /** An administrator's registration, or the client's own (held to the registration policy). */
  origin: RegistrationOrigin;
  clientId: string;
  secretHash: string | null;
  registrationAccessTokenHash?: string | null;
  /** Lifetime of the secret (CLIENT_SECRET_TTL_SECONDS); 0 or absent: it never expires. */
  secretTtlSeconds?: number;
  /** The document the caller fetched from sector_identifier_uri (Registration §5). */
  sectorRedirectUris?: readonly string[];
  now: Date;
};

/** RFC 7592 §2.2: the new metadata replaces the old; the secret and the client_id stay. */
export type UpdateClient = ClientMetadataInput & {
  type: 'UpdateClient';
  origin: RegistrationOrigin;
  /** The document the caller fetched from sector_identifier_uri (Registration §5). */
  sectorRedirectUris?: readonly string[];
  now: Date;
};

/** An administrator grants a privileged scope (listed in `privilegedScopes`). */
export interface GrantClientPrivilege {
  type: 'GrantClientPrivilege';
  scope: string;
  privilegedScopes: readonly string[];
  now: Date;
}

export interface RevokeClientPrivilege {
  type: 'RevokeClientPrivilege';
  scope: string;
  now: Date;
}

export interface RotateClientSecret {
  type: 'RotateClientSecret';
  secretHash: string;
  /** Seconds the previous secret keeps working (default 0: none). */
  graceSeconds?: number;
  /** Lifetime of the new secret (CLIENT_SECRET_TTL_SECONDS); 0 or absent: it never expires. */
  secretTtlSeconds?: number;
  now: Date;
}

export interface DisableClient {
  type: 'DisableClient';
  now: Date;
}

export interface DeleteClient {
  type: 'DeleteClient';
  now: Date;
}

export type ClientCommand =
  | RegisterClient
  | UpdateClient
  | GrantClientPrivilege
  | RevokeClientPrivilege
  | RotateClientSecret
  | DisableClient
  | DeleteClient;

function stamp(state: KnownClientState): string {
  return state.clientId;
}

/**
 * RFC 7591 §3.2.1: the instant a secret issued at `now` expires, or null (a lifetime of 0: never).
 * Rounded up to a whole second, so that client_secret_expires_at (seconds) names it exactly.
 */
function secretExpiry(now: Date, ttlSeconds: number | undefined): string | null {
  const ttl = ttlSeconds ?? 0;
  intIn('client secret lifetime', ttl, 0, MAX_CLIENT_SECRET_TTL_SECONDS);
  if (ttl === 0) return null;
  return new Date((Math.ceil(now.getTime() / 1000) + ttl) * 1000).toISOString();
}

/**
 * A refusal is returned, never thrown: the metadata checks (client-metadata.ts, metadata-checks.ts,
 * registration-policy.ts) throw their OAuthError, and it is turned into the decision's refusal here.
 */
export function decideClient(
  command: ClientCommand,
  state: ClientState,
  rules: ClientMetadataRules = DEFAULT_CLIENT_METADATA_RULES,
): Decision {
  try {
    return decideCommand(command, state, rules);
  } catch (err) {
    if (err instanceof OAuthError) return refuse(err);
    throw err;
  }
}

function decideCommand(command: ClientCommand, state: ClientState, rules: ClientMetadataRules): Decision {
  switch (command.type) {
    case 'RegisterClient':
      return decideRegister(command, state, rules);
    case 'UpdateClient':
      return decideUpdate(command, state, rules);
    case 'GrantClientPrivilege':
      return decideGrantPrivilege(command, state);
    case 'RevokeClientPrivilege':
      return decideRevokePrivilege(command, state);
    case 'RotateClientSecret':
      return decideRotateSecret(command, state);
    case 'DisableClient':
      return decideDisable(command, state);
    case 'DeleteClient':
      return decideDelete(command, state);
    default: {
      const unknown: never = command;
      throw new Error(`unknown command ${(unknown as { type: string }).type}`);
    }
  }
}

/** The client aggregate (`client-*` streams) as a decider, with the default metadata rules. */
export const clientDecider: Decider<ClientCommand, ClientEvent, ClientState> = {
  decide: (command, state) => decideClient(command, state),
  evolve: evolveClient,
  initialState: initialClientState,
};

function decideRegister(command: RegisterClient, state: ClientState, rules: ClientMetadataRules): Decision {
  if (state.status !== 'unregistered') return refuse(new ClientAlreadyRegistered(command.clientId));
  if (!/^[\x21-\x7e]{1,128}$/.test(command.clientId))
    return refuse(metadataError('client_id must be 1 to 128 visible ASCII characters'));
  const {
    type: _t,
    clientId,
    secretHash,
    registrationAccessTokenHash,
    secretTtlSeconds,
    now,
    origin,
    sectorRedirectUris,
    ...input
  } = command;
  const metadata = normalizeMetadata(input, { ...rules, sectorRedirectUris });
  if (origin.kind === 'self-service') checkRegistrationPolicy(metadata, origin.policy, null);
  if (usesSecret(metadata.tokenEndpointAuthMethod) !== (secretHash !== null))
    return refuse(
      metadataError('a secret goes with a client_secret_basic or client_secret_post client only'),
    );
  const secretExpiresAt = secretExpiry(now, secretTtlSeconds);
  const { plain, privileged } = splitScope(metadata.scope, privilegedScopesOf(origin));
  const event: ClientRegistered = {
    type: 'ClientRegistered',
    data: {
      clientId,
      ...metadata,
      scope: plain,
      secretHash,
      registrationAccessTokenHash: registrationAccessTokenHash ?? null,
      secretExpiresAt: secretHash === null ? null : secretExpiresAt,
      registeredAt: now.toISOString(),
    },
  };
  return accept([
    { ...event, schemaVersion: CLIENT_METADATA_SCHEMA_VERSION },
    ...privileged.map((scope) => privilegeGranted(clientId, scope, now)),
  ]);
}

function decideUpdate(command: UpdateClient, state: ClientState, rules: ClientMetadataRules): Decision {
  if (!isKnownClient(state)) return refuse(new ClientNotRegistered());
  const { type: _t, now, origin, sectorRedirectUris, ...input } = command;
  const metadata = normalizeMetadata(input, { ...rules, sectorRedirectUris });
  if (origin.kind === 'self-service') checkRegistrationPolicy(metadata, origin.policy, state);
  // The secret stays: an update may not move a client into or out of secret-based methods.
  if (usesSecret(metadata.tokenEndpointAuthMethod) !== usesSecret(state.tokenEndpointAuthMethod))
    return refuse(
      metadataError('token_endpoint_auth_method cannot change between secret and non-secret methods'),
    );
  const { plain, privileged } = splitScope(metadata.scope, privilegedScopesOf(origin));
  const event: ClientUpdated = {
    type: 'ClientUpdated',
    data: { clientId: stamp(state), ...metadata, scope: plain, updatedAt: now.toISOString() },
  };
  // RFC 7592 §2.2: the document replaces the registration, so a privileged scope it leaves out
  // is given up; one it adds is granted (an administrator's update only, checked above).
  const kept = new Set(privileged);
  const held = new Set(state.privilegedScopes);
  return accept([
    { ...event, schemaVersion: CLIENT_METADATA_SCHEMA_VERSION },
    ...privileged.filter((s) => !held.has(s)).map((s) => privilegeGranted(state.clientId, s, now)),
    ...state.privilegedScopes
      .filter((s) => !kept.has(s))
      .map((s) => privilegeRevoked(state.clientId, s, now)),
  ]);
}

function decideGrantPrivilege(command: GrantClientPrivilege, state: ClientState): Decision {
  if (!isKnownClient(state)) return refuse(new ClientNotRegistered());
  if (!command.privilegedScopes.includes(command.scope))
    return refuse(
      new OAuthError('invalid_request', `${command.scope} is not a privileged scope (PRIVILEGED_SCOPES)`),
    );
  if (state.privilegedScopes.includes(command.scope)) return accept([]);
  return accept([privilegeGranted(state.clientId, command.scope, command.now)]);
}

function decideRevokePrivilege(command: RevokeClientPrivilege, state: ClientState): Decision {
  if (!isKnownClient(state)) return refuse(new ClientNotRegistered());
  if (!state.privilegedScopes.includes(command.scope)) return accept([]);
  return accept([privilegeRevoked(state.clientId, command.scope, command.now)]);
}

function decideRotateSecret(command: RotateClientSecret, state: ClientState): Decision {
  if (!isKnownClient(state)) return refuse(new ClientNotRegistered());
  if (!usesSecret(state.tokenEndpointAuthMethod)) return refuse(metadataError('this client has no secret'));
  const grace = command.graceSeconds ?? 0;
  intIn('grace period', grace, 0, MAX_SECRET_ROTATION_GRACE_SECONDS);
  const now = command.now.getTime();
  // RFC 7591 §3.2.1: the grace period does not outlive the previous secret's own expiry.
  const previousValidUntil = Math.min(
    now + grace * 1000,
    state.secretExpiresAt === null ? Infinity : Date.parse(state.secretExpiresAt),
  );
  const event: ClientSecretRotated = {
    type: 'ClientSecretRotated',
    data: {
      clientId: state.clientId,
      secretHash: command.secretHash,
      rotatedAt: command.now.toISOString(),
      secretExpiresAt: secretExpiry(command.now, command.secretTtlSeconds),
      ...(previousValidUntil > now
        ? { previousSecretValidUntil: new Date(previousValidUntil).toISOString() }
        : {}),
    },
  };
  return accept([event]);
}

function decideDisable(command: DisableClient, state: ClientState): Decision {
  if (!isKnownClient(state)) return refuse(new ClientNotRegistered());
  if (state.status === 'disabled') return accept([]);
  const event: ClientDisabled = {
    type: 'ClientDisabled',
    data: { clientId: state.clientId, disabledAt: command.now.toISOString() },
  };
  return accept([event]);
}

function decideDelete(command: DeleteClient, state: ClientState): Decision {
  if (!isKnownClient(state)) return refuse(new ClientNotRegistered());
  const event: ClientDeleted = {
    type: 'ClientDeleted',
    data: { clientId: state.clientId, deletedAt: command.now.toISOString() },
  };
  return accept([event]);
}

function splitScope(scope: readonly string[], privilegedScopes: readonly string[]) {
  const privileged = new Set(privilegedScopes);
  return {
    plain: scope.filter((s) => !privileged.has(s)),
    privileged: scope.filter((s) => privileged.has(s)),
  };
}

function privilegeGranted(clientId: string, scope: string, now: Date): ClientPrivilegeGranted {
  return { type: 'ClientPrivilegeGranted', data: { clientId, scope, grantedAt: now.toISOString() } };
}

function privilegeRevoked(clientId: string, scope: string, now: Date): ClientPrivilegeRevoked {
  return { type: 'ClientPrivilegeRevoked', data: { clientId, scope, revokedAt: now.toISOString() } };
}
