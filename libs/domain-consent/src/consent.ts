import { accept, type Decider, type Decision, type Recorded } from '#lib/decider';
import { scopeCovers } from '#lib/oauth-protocol';

/**
 * A user's remembered consent to one client: stream `consent-<sub>-<clientId>` (ids are
 * base64url-safe, so the stream id is unambiguous when read back through the events' data).
 * A remembered consent lets a later authorization for the same or fewer scopes skip the consent
 * page; revoking it revokes the grants made under it (their refresh and access tokens stop working).
 *
 * ```mermaid
 * stateDiagram-v2
 *   [*] --> granted: ConsentGranted
 *   granted --> granted: ConsentGranted (scope widened to the union)
 *   granted --> revoked: ConsentRevoked
 *   revoked --> granted: ConsentGranted (asked again, the user allowed)
 * ```
 */
export const consentStreamId = (sub: string, clientId: string) =>
  `consent-${Buffer.from(sub).toString('base64url')}-${Buffer.from(clientId).toString('base64url')}`;

export interface ConsentGranted {
  type: 'ConsentGranted';
  data: { sub: string; clientId: string; scope: string[]; grantedAt: string };
}

export interface ConsentDenied {
  type: 'ConsentDenied';
  data: { sub: string; clientId: string; scope: string[]; deniedAt: string };
}

export interface ConsentRevoked {
  type: 'ConsentRevoked';
  data: { sub: string; clientId: string; revokedAt: string; revokedBy: string };
}

export type ConsentEvent = ConsentGranted | ConsentDenied | ConsentRevoked;

/**
 * Every event type of `consent-*` streams (a Record over the union: a type added to the union and
 * not here does not compile; the published-events contract in libs/contracts is checked against
 * every `*_EVENT_TYPES` array).
 */
const consentEventTypes: Record<ConsentEvent['type'], true> = {
  ConsentGranted: true,
  ConsentDenied: true,
  ConsentRevoked: true,
};
export const CONSENT_EVENT_TYPES = Object.keys(consentEventTypes) as readonly ConsentEvent['type'][];

export type ConsentState =
  | { status: 'none' }
  | { status: 'granted'; sub: string; clientId: string; scope: string[] }
  | { status: 'revoked'; sub: string; clientId: string };

export const initialConsentState = (): ConsentState => ({ status: 'none' });

export interface GrantConsent {
  type: 'GrantConsent';
  sub: string;
  clientId: string;
  scope: string[];
  now: Date;
}

export interface DenyConsent {
  type: 'DenyConsent';
  sub: string;
  clientId: string;
  scope: string[];
  now: Date;
}

export interface RevokeConsent {
  type: 'RevokeConsent';
  revokedBy: string;
  now: Date;
}

export type ConsentCommand = GrantConsent | DenyConsent | RevokeConsent;

export function decideConsent(command: ConsentCommand, state: ConsentState): Decision {
  switch (command.type) {
    case 'GrantConsent': {
      const held = state.status === 'granted' ? state.scope : [];
      const scope = [...new Set([...held, ...command.scope])];
      if (state.status === 'granted' && scope.length === held.length) return accept([]);
      return accept([
        {
          type: 'ConsentGranted',
          data: { sub: command.sub, clientId: command.clientId, scope, grantedAt: command.now.toISOString() },
        } satisfies ConsentGranted,
      ]);
    }
    case 'DenyConsent':
      // RFC 6749 §4.1.2.1 access_denied; recorded for the audit trail, it changes no state.
      return accept([
        {
          type: 'ConsentDenied',
          data: {
            sub: command.sub,
            clientId: command.clientId,
            scope: command.scope,
            deniedAt: command.now.toISOString(),
          },
        } satisfies ConsentDenied,
      ]);
    case 'RevokeConsent': {
      if (state.status !== 'granted') return accept([]);
      return accept([
        {
          type: 'ConsentRevoked',
          data: {
            sub: state.sub,
            clientId: state.clientId,
            revokedAt: command.now.toISOString(),
            revokedBy: command.revokedBy,
          },
        } satisfies ConsentRevoked,
      ]);
    }
    default: {
      const unknown: never = command;
      throw new Error(`unknown command ${(unknown as { type: string }).type}`);
    }
  }
}

export function evolveConsent(state: ConsentState, e: Recorded<ConsentEvent>): ConsentState {
  switch (e.type) {
    case 'ConsentGranted':
      return { status: 'granted', sub: e.data.sub, clientId: e.data.clientId, scope: e.data.scope };
    case 'ConsentDenied':
      return state;
    case 'ConsentRevoked':
      return { status: 'revoked', sub: e.data.sub, clientId: e.data.clientId };
    default: {
      const unknown: never = e;
      void unknown;
      return state;
    }
  }
}

/** The consent aggregate (`consent-*` streams) as a decider; it never refuses. */
export const consentDecider: Decider<ConsentCommand, ConsentEvent, ConsentState> = {
  decide: decideConsent,
  evolve: evolveConsent,
  initialState: initialConsentState,
};

/** How `consent-*` streams are folded. */
export const CONSENT_FOLD = { evolve: evolveConsent, initial: initialConsentState };

/** Whether a remembered consent covers a request, so the consent page can be skipped. */
export function consentCovers(state: ConsentState, requested: readonly string[]): boolean {
  return state.status === 'granted' && scopeCovers(state.scope, requested);
}
