import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { AuditEvent } from '#lib/contracts';

/** One step of a life on the timeline. */
export interface TimelineEntry {
  position: number;
  when: string;
  what: string;
  who: string;
  client: string;
  detail: string;
  kind: 'start' | 'change' | 'end';
}

export interface TimelinePage {
  title: string;
  /** Label/value lines above the timeline (the current state). */
  facts: [string, string][];
  entries: TimelineEntry[];
}

const STYLE = `
body{font:15px/1.5 system-ui,sans-serif;margin:2rem auto;max-width:60rem;color:#1b1f24;background:#fafbfc}
h1{font-size:1.4rem;margin:0 0 1rem;word-break:break-all}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;margin:0 0 1.5rem}
dt{color:#57606a}dd{margin:0;word-break:break-all}
ol{list-style:none;margin:0;padding:0 0 0 1.5rem;border-left:3px solid #d0d7de}
li{position:relative;margin:0 0 1.2rem;padding:.6rem .9rem;background:#fff;border:1px solid #d0d7de;border-radius:6px}
li::before{content:"";position:absolute;left:-2.05rem;top:.9rem;width:.9rem;height:.9rem;border-radius:50%;background:#0969da}
li.start::before{background:#1a7f37}li.end::before{background:#cf222e}
.what{font-weight:600}.meta{color:#57606a;font-size:.85rem}.detail{font-family:ui-monospace,monospace;font-size:.85rem;word-break:break-all}
`;

/** CSP for the page: nothing but the inline style above (by hash); no script, no external asset. */
export const AUDIT_PAGE_CSP = [
  "default-src 'none'",
  `style-src 'sha256-${createHash('sha256').update(STYLE).digest('base64')}'`,
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const str = (v: unknown) => (typeof v === 'string' ? v : v === undefined ? '' : JSON.stringify(v));

type EventData = Record<string, unknown>;

/** How one event type reads on the timeline: its mark, its title and its detail line. */
interface EventReading {
  kind: TimelineEntry['kind'];
  what: string;
  detail: (d: EventData) => string;
}

const READINGS: Readonly<Record<string, EventReading>> = {
  ClientRegistered: {
    kind: 'start',
    what: 'Client registered',
    detail: (d) => `name ${str(d.clientName)}; grants ${str(d.grantTypes)}; scope ${str(d.scope)}`,
  },
  ClientSecretRotated: { kind: 'change', what: 'Client secret rotated', detail: () => '' },
  AccessTokenIssued: {
    kind: 'start',
    what: 'Access token issued',
    detail: (d) =>
      `jti ${str(d.jti)}; grant ${str(d.grantType)}; scope ${str(d.scope)}; sub ${str(d.sub)}; exp ${
        typeof d.exp === 'number' ? new Date(d.exp * 1000).toISOString() : ''
      }`,
  },
  AccessTokenRevoked: {
    kind: 'end',
    what: 'Access token revoked',
    detail: (d) => `jti ${str(d.jti)}; by client ${str(d.revokedBy)}; reason ${str(d.reason)}`,
  },
  ConsentGranted: {
    kind: 'start',
    what: 'Consent granted',
    detail: (d) => `sub ${str(d.sub)}; scope ${str(d.scope)}`,
  },
  ConsentDenied: {
    kind: 'change',
    what: 'Consent denied',
    detail: (d) => `sub ${str(d.sub)}; scope ${str(d.scope)}`,
  },
  ConsentRevoked: {
    kind: 'end',
    what: 'Consent revoked',
    detail: (d) => `sub ${str(d.sub)}; by ${str(d.revokedBy)}`,
  },
  AuthorizationCodeIssued: {
    kind: 'start',
    what: 'Authorization code issued',
    detail: (d) =>
      `sub ${str(d.sub)}${d.username ? ` (${str(d.username)})` : ''}; scope ${str(d.scope)}; to ${str(
        d.deliveredTo,
      )}; PKCE ${d.codeChallenge ? 'S256' : 'none'}; expires ${str(d.expiresAt)}`,
  },
  AuthorizationCodeRedeemed: {
    kind: 'change',
    what: 'Authorization code redeemed',
    detail: (d) => `access token ${str(d.accessTokenJti)}`,
  },
  AuthorizationCodeReplayed: {
    kind: 'end',
    what: 'Authorization code replayed',
    detail: (d) => `by client ${str(d.clientId)}`,
  },
  RefreshTokenIssued: {
    kind: 'change',
    what: 'Refresh token issued',
    detail: (d) =>
      `generation ${str(d.generation)}; scope ${str(d.scope)}; family expires ${str(d.familyExpiresAt)}`,
  },
  RefreshTokenRotated: {
    kind: 'change',
    what: 'Refresh token rotated',
    detail: (d) =>
      `generation ${str(d.generation)}; scope ${str(d.scope)}; access token ${str(d.accessTokenJti)}${
        d.withinGrace ? '; within the reuse grace window' : ''
      }`,
  },
  RefreshTokenReuseDetected: {
    kind: 'end',
    what: 'Refresh token reuse detected',
    detail: (d) =>
      `a rotated token presented again (family at generation ${str(d.generation)}) by client ${str(d.clientId)}`,
  },
  GrantRevoked: {
    kind: 'end',
    what: 'Grant revoked',
    detail: (d) => `reason ${str(d.reason)}; by ${str(d.revokedBy)}`,
  },
  SessionStarted: {
    kind: 'start',
    what: 'Session started',
    detail: (d) => {
      // Sealed device facts come as one label (docs/privacy-and-retention.md).
      const ua = (d.userAgent ?? {}) as EventData;
      const device = typeof d.userAgent === 'string' ? d.userAgent : `${str(ua.browser)} on ${str(ua.os)}`;
      return `sub ${str(d.sub)}; amr ${str(d.amr)}; acr ${str(d.acr)}; ${device}; expires ${str(d.expiresAt)}`;
    },
  },
  SessionExtended: { kind: 'change', what: 'Session used', detail: (d) => `at ${str(d.usedAt)}` },
  SessionClientAuthorized: {
    kind: 'change',
    what: 'Signed in to a client',
    detail: (d) => `client ${str(d.clientId)}`,
  },
  SessionEnded: {
    kind: 'end',
    what: 'Session ended',
    detail: (d) =>
      `reason ${str(d.reason)}; by ${str(d.endedBy)}${
        Array.isArray(d.logoutNotifications) ? `; back-channel logout to ${str(d.logoutNotifications)}` : ''
      }`,
  },
  LogoutNotificationSent: {
    kind: 'change',
    what: 'Logout notification sent',
    detail: (d) =>
      `client ${str(d.clientId)}; attempt ${str(d.attempt)}; to ${str(d.uri)}; jti ${str(d.jti)}`,
  },
  LogoutNotificationDelivered: {
    kind: 'change',
    what: 'Logout notification delivered',
    detail: (d) => `client ${str(d.clientId)}; attempt ${str(d.attempt)}; HTTP ${str(d.status)}`,
  },
  LogoutNotificationFailed: {
    kind: 'change',
    what: 'Logout notification failed',
    detail: (d) =>
      `client ${str(d.clientId)}; attempt ${str(d.attempt)}; ${str(d.reason)}; ${
        d.retryAt === undefined ? 'given up' : `retry at ${str(d.retryAt)}`
      }`,
  },
};

/** How an event reads on the timeline; an event type without a reading shows its data as JSON. */
export function timelineEntry(e: AuditEvent): TimelineEntry {
  const d = (e.data ?? {}) as EventData;
  const base = {
    position: e.position,
    when: e.recordedAt,
    who: str(e.metadata.actor) || 'unknown',
    client: str(d.clientId ?? d.revokedBy),
  };
  const reading = Object.hasOwn(READINGS, e.type) ? READINGS[e.type] : undefined;
  if (reading === undefined) return { ...base, kind: 'change', what: e.type, detail: JSON.stringify(d) };
  return { ...base, kind: reading.kind, what: reading.what, detail: reading.detail(d) };
}

/** The timeline template (apps/admin/src/views, copied beside the build by scripts/copy-views.mjs). */
export const ADMIN_VIEWS_DIR = fileURLToPath(new URL('../views/', import.meta.url));

/** The whole page: `timeline` in ADMIN_VIEWS_DIR, through @fastify/view (every value escaped there). */
export function timelineView(page: TimelinePage): {
  template: string;
  data: TimelinePage & { style: string };
} {
  return { template: 'timeline', data: { ...page, style: STYLE } };
}
