import type { RecordedEvent, Upcaster } from '#lib/event-store';
import type { ClientMetadata } from './client-metadata.js';
import { ADMIN_SCOPE } from './registration-policy.js';

// ---- events (past tense; data never holds a secret, only its hash) ----

export interface ClientRegistered {
  type: 'ClientRegistered';
  data: Partial<ClientMetadata> &
    Pick<
      ClientMetadata,
      'clientName' | 'tokenEndpointAuthMethod' | 'grantTypes' | 'scope' | 'defaultScope' | 'audience'
    > & {
      clientId: string;
      secretHash: string | null;
      /** RFC 7592 §3: hash of the registration access token, when one was issued. */
      registrationAccessTokenHash?: string | null;
      /**
       * RFC 7591 §3.2.1 client_secret_expires_at, as an instant; null: never (also for a client
       * without a secret). Absent in events written before secrets could expire: never.
       */
      secretExpiresAt?: string | null;
      registeredAt: string;
    };
}

export interface ClientUpdated {
  type: 'ClientUpdated';
  data: ClientMetadata & { clientId: string; updatedAt: string };
}

export interface ClientSecretRotated {
  type: 'ClientSecretRotated';
  data: {
    clientId: string;
    secretHash: string;
    rotatedAt: string;
    /** When the new secret expires (RFC 7591 §3.2.1); null or absent (older events): never. */
    secretExpiresAt?: string | null;
    /**
     * Until when the previous secret still authenticates (absent or null: not at all); never past
     * that secret's own expiry.
     */
    previousSecretValidUntil?: string | null;
  };
}

/** An administrator granted the client a privileged scope (the actor is in the event's metadata). */
export interface ClientPrivilegeGranted {
  type: 'ClientPrivilegeGranted';
  data: { clientId: string; scope: string; grantedAt: string };
}

/** An administrator (or the client itself, giving it up) took a privileged scope back. */
export interface ClientPrivilegeRevoked {
  type: 'ClientPrivilegeRevoked';
  data: { clientId: string; scope: string; revokedAt: string };
}

export interface ClientDisabled {
  type: 'ClientDisabled';
  data: { clientId: string; disabledAt: string };
}

export interface ClientDeleted {
  type: 'ClientDeleted';
  data: { clientId: string; deletedAt: string };
}

export type ClientEvent =
  | ClientRegistered
  | ClientUpdated
  | ClientSecretRotated
  | ClientPrivilegeGranted
  | ClientPrivilegeRevoked
  | ClientDisabled
  | ClientDeleted;

/**
 * Every client event type (a Record over the union: a type added to the union and not here does not
 * compile; the published-events contract in libs/contracts is checked against every `*_EVENT_TYPES`
 * array).
 */
const clientEventTypes: Record<ClientEvent['type'], true> = {
  ClientRegistered: true,
  ClientUpdated: true,
  ClientSecretRotated: true,
  ClientPrivilegeGranted: true,
  ClientPrivilegeRevoked: true,
  ClientDisabled: true,
  ClientDeleted: true,
};
export const CLIENT_EVENT_TYPES = Object.keys(clientEventTypes) as readonly ClientEvent['type'][];

/**
 * Schema versions of the metadata events. Version 2: `scope` never holds a privileged scope (those
 * are ClientPrivilegeGranted events). Version 1 events are upcast on read (CLIENT_UPCASTERS).
 */
export const CLIENT_METADATA_SCHEMA_VERSION = 2;

/**
 * Before schema version 2 a client could hold `admin` in its registered scope (a self-registered
 * client could give it to itself); version 1 metadata events read without it, so only a
 * ClientPrivilegeGranted event confers it.
 */
function withoutAdminScope(event: RecordedEvent): RecordedEvent {
  const data = event.data as { scope?: string[]; defaultScope?: string[] };
  const without = (scopes: string[] | undefined) => scopes?.filter((s) => s !== ADMIN_SCOPE) ?? [];
  return {
    ...event,
    data: { ...data, scope: without(data.scope), defaultScope: without(data.defaultScope) },
  };
}

/** The upcasters of `client-*` events, applied when a client stream is read for folding. */
export const CLIENT_UPCASTERS: readonly Upcaster[] = [
  { type: 'ClientRegistered', fromSchemaVersion: 1, upcast: withoutAdminScope },
  { type: 'ClientUpdated', fromSchemaVersion: 1, upcast: withoutAdminScope },
];
