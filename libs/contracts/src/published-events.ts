import type { PublishedEvent, RecordedEvent } from '#lib/event-store';

/**
 * What a consumer of the event stream (JetStream `EVENTS_STREAM`: a SIEM, another team) receives
 * of each event type: the contract between the system and everyone outside it who reads its
 * history (docs/events.md "What a stream consumer receives", generated from this table).
 *
 * Each type lists the data fields that are published: an allow-list, so a field added to an
 * event is not published until it is declared here. Every other field is listed as withheld,
 * with the reason. Nothing that authenticates (a password hash, the stored hash of a secret, a
 * sealed private key) and no personal data (username, email, name, contacts) leaves the store:
 * RFC 6819 §5.1.4.1.3 (credentials are not kept where they are not needed), RFC 6973 §6.1 (data
 * minimization). A type with no declaration is published without data.
 */
export const WITHHELD_BECAUSE = {
  'password hash': 'an argon2id password hash: an offline guessing target',
  'secret hash':
    'the HMAC of a bearer secret (client secret, code, refresh token, registration or initial access token), or a PKCE challenge (the SHA-256 of a verifier): what the store knows the secret by',
  'sealed key': 'a private signing key, sealed under KEY_ENCRYPTION_KEY',
  'personal data': 'what names a person (username, email address, name, contacts)',
  'device facts':
    "a session's browser family and operating system: with the sub, a fact about a person's devices",
  'client binding':
    "a value the client bound to its request (OpenID Connect Core §3.1.2.1 nonce): it goes into that client's ID token only",
} as const;

export type WithheldBecause = keyof typeof WITHHELD_BECAUSE;

export interface PublishedEventType {
  /** The stream the type is appended to, for the documentation (`user-<sub>`). */
  readonly stream: string;
  /** The data fields a consumer receives (those the event has). */
  readonly published: readonly string[];
  /** Every other data field of the type, and why it stays in the store. */
  readonly withheld: Readonly<Record<string, WithheldBecause>>;
  /**
   * Set when the stream id itself names a secret's hash or a person: the message carries the
   * stream's category only (`initial-access-token-<hmac>` → `initial`).
   */
  readonly streamIdWithheld?: WithheldBecause;
}

/**
 * A stream's category: its id up to the first '-' (`user-3f9a…` → `user`), as in the message
 * subject (libs/event-store `categoryOf`, which also escapes what a subject token cannot hold).
 */
export function streamCategory(streamId: string): string {
  const dash = streamId.indexOf('-');
  return dash < 0 ? streamId : streamId.slice(0, dash);
}

/**
 * `callerRequestId` is what the caller sent as X-Correlation-Id / X-Request-Id (well-formed only):
 * published so that a consumer can match a caller's report, but untrusted; `correlationId` is the
 * server's and is the one that joins events.
 */
const METADATA_PUBLISHED = ['correlationId', 'callerRequestId', 'causationId', 'actor'] as const;

const clientMetadata = [
  'clientName',
  'tokenEndpointAuthMethod',
  'grantTypes',
  'responseTypes',
  'redirectUris',
  'scope',
  'defaultScope',
  'audience',
  'clientUri',
  'logoUri',
  'requirePkce',
  'refreshTokenReuseGraceSeconds',
  'accessTokenTtlSeconds',
  'refreshTokenTtlSeconds',
  'jwks',
  'jwksUri',
  'idTokenSignedResponseAlg',
  'subjectType',
  'sectorIdentifierUri',
  'defaultMaxAge',
  'requireAuthTime',
  'postLogoutRedirectUris',
  'backchannelLogoutUri',
  'backchannelLogoutSessionRequired',
] as const;

export const PUBLISHED_EVENTS = {
  ClientRegistered: {
    stream: 'client-<client_id>',
    published: ['clientId', ...clientMetadata, 'secretExpiresAt', 'registeredAt'],
    withheld: {
      secretHash: 'secret hash',
      registrationAccessTokenHash: 'secret hash',
      contacts: 'personal data',
    },
  },
  ClientUpdated: {
    stream: 'client-<client_id>',
    published: ['clientId', ...clientMetadata, 'updatedAt'],
    withheld: { contacts: 'personal data' },
  },
  ClientSecretRotated: {
    stream: 'client-<client_id>',
    published: ['clientId', 'rotatedAt', 'secretExpiresAt', 'previousSecretValidUntil'],
    withheld: { secretHash: 'secret hash' },
  },
  ClientPrivilegeGranted: {
    stream: 'client-<client_id>',
    published: ['clientId', 'scope', 'grantedAt'],
    withheld: {},
  },
  ClientPrivilegeRevoked: {
    stream: 'client-<client_id>',
    published: ['clientId', 'scope', 'revokedAt'],
    withheld: {},
  },
  ClientDisabled: { stream: 'client-<client_id>', published: ['clientId', 'disabledAt'], withheld: {} },
  ClientDeleted: { stream: 'client-<client_id>', published: ['clientId', 'deletedAt'], withheld: {} },
  ClientAssertionUsed: {
    stream: 'client-assertion-<sha256(client_id, jti)>',
    published: ['clientId', 'jtiHash', 'expiresAt'],
    withheld: {},
  },
  InitialAccessTokenCreated: {
    stream: 'initial-access-token-<id> (before ids: <hmac(token)>)',
    published: ['id', 'createdAt', 'expiresAt', 'maxUses'],
    withheld: { tokenHash: 'secret hash' },
    streamIdWithheld: 'secret hash',
  },
  InitialAccessTokenUsed: {
    stream: 'initial-access-token-<id> (before ids: <hmac(token)>)',
    published: ['id', 'clientId', 'usedAt'],
    withheld: {},
    streamIdWithheld: 'secret hash',
  },
  InitialAccessTokenRevoked: {
    stream: 'initial-access-token-<id>',
    published: ['id', 'revokedAt'],
    withheld: {},
    streamIdWithheld: 'secret hash',
  },
  UserCreated: {
    stream: 'user-<sub>',
    published: ['sub', 'createdAt'],
    withheld: {
      username: 'personal data',
      email: 'personal data',
      name: 'personal data',
      passwordHash: 'password hash',
    },
  },
  UsernameClaimed: {
    stream: 'username-<HMAC of the lower-cased username>',
    published: ['sub'],
    withheld: { username: 'personal data' },
    streamIdWithheld: 'personal data',
  },
  UserPasswordChanged: {
    stream: 'user-<sub>',
    published: ['sub', 'changedAt'],
    withheld: { passwordHash: 'password hash' },
  },
  UserDisabled: { stream: 'user-<sub>', published: ['sub', 'disabledAt'], withheld: {} },
  UserEnabled: { stream: 'user-<sub>', published: ['sub', 'enabledAt'], withheld: {} },
  UserAuthenticated: {
    stream: 'user-<sub>',
    published: ['sub', 'at', 'clientId'],
    withheld: { username: 'personal data' },
  },
  UserLoginFailed: {
    stream: 'user-<sub>',
    published: ['sub', 'at', 'reason'],
    withheld: { username: 'personal data' },
  },
  UserErased: { stream: 'user-<sub>', published: ['sub', 'erasedAt'], withheld: {} },
  ConsentGranted: {
    stream: 'consent-<base64url(sub)>-<base64url(client_id)>',
    published: ['sub', 'clientId', 'scope', 'grantedAt'],
    withheld: {},
  },
  ConsentDenied: {
    stream: 'consent-<base64url(sub)>-<base64url(client_id)>',
    published: ['sub', 'clientId', 'scope', 'deniedAt'],
    withheld: {},
  },
  ConsentRevoked: {
    stream: 'consent-<base64url(sub)>-<base64url(client_id)>',
    published: ['sub', 'clientId', 'revokedAt', 'revokedBy'],
    withheld: {},
  },
  SessionStarted: {
    stream: 'session-<sid>',
    published: ['sid', 'sub', 'authTime', 'amr', 'acr', 'startedAt', 'expiresAt'],
    withheld: { userAgent: 'device facts' },
  },
  SessionExtended: { stream: 'session-<sid>', published: ['sid', 'sub', 'usedAt'], withheld: {} },
  SessionClientAuthorized: {
    stream: 'session-<sid>',
    published: ['sid', 'sub', 'clientId', 'at'],
    withheld: {},
  },
  SessionEnded: {
    stream: 'session-<sid>',
    published: ['sid', 'sub', 'reason', 'endedBy', 'endedAt', 'logoutNotifications'],
    withheld: {},
  },
  LogoutNotificationSent: {
    stream: 'session-<sid>',
    published: ['sid', 'sub', 'clientId', 'attempt', 'jti', 'uri', 'sentAt', 'outcomeBy'],
    withheld: {},
  },
  LogoutNotificationDelivered: {
    stream: 'session-<sid>',
    published: ['sid', 'sub', 'clientId', 'attempt', 'status', 'deliveredAt'],
    withheld: {},
  },
  LogoutNotificationFailed: {
    stream: 'session-<sid>',
    published: ['sid', 'sub', 'clientId', 'attempt', 'status', 'reason', 'failedAt', 'retryAt'],
    withheld: {},
  },
  AuthorizationCodeIssued: {
    stream: 'grant-<grantId>',
    published: [
      'grantId',
      'clientId',
      'sub',
      'scope',
      'resource',
      'redirectUri',
      'deliveredTo',
      'issuedAt',
      'expiresAt',
      'authTime',
      'sid',
      'amr',
      'acr',
      'claims',
    ],
    withheld: {
      username: 'personal data',
      codeHash: 'secret hash',
      codeChallenge: 'secret hash',
      nonce: 'client binding',
    },
  },
  AuthorizationCodeRedeemed: {
    stream: 'grant-<grantId>',
    published: ['grantId', 'redeemedAt', 'accessTokenJti'],
    withheld: { codeHash: 'secret hash' },
  },
  AuthorizationCodeReplayed: {
    stream: 'grant-<grantId>',
    published: ['grantId', 'clientId', 'at'],
    withheld: {},
  },
  RefreshTokenIssued: {
    stream: 'grant-<grantId>',
    published: [
      'grantId',
      'generation',
      'scope',
      'issuedAt',
      'expiresAt',
      'familyExpiresAt',
      'accessTokenJti',
    ],
    withheld: { tokenHash: 'secret hash' },
  },
  RefreshTokenRotated: {
    stream: 'grant-<grantId>',
    published: ['grantId', 'generation', 'scope', 'rotatedAt', 'expiresAt', 'accessTokenJti', 'withinGrace'],
    withheld: { previousHash: 'secret hash', tokenHash: 'secret hash' },
  },
  RefreshTokenFamilyEnded: {
    stream: 'grant-<grantId>',
    published: ['grantId', 'reason', 'generation', 'at'],
    withheld: {},
  },
  RefreshTokenReuseDetected: {
    stream: 'grant-<grantId>',
    published: ['grantId', 'generation', 'clientId', 'at'],
    withheld: { tokenHash: 'secret hash' },
  },
  GrantRevoked: {
    stream: 'grant-<grantId>',
    published: ['grantId', 'reason', 'revokedBy', 'at'],
    withheld: {},
  },
  AccessTokenIssued: {
    stream: 'access-token-<jti>',
    published: ['jti', 'clientId', 'sub', 'aud', 'scope', 'grantType', 'grantId', 'iat', 'exp', 'kid'],
    withheld: { username: 'personal data' },
  },
  AccessTokenRevoked: {
    stream: 'access-token-<jti>',
    published: ['jti', 'revokedAt', 'revokedBy', 'reason'],
    withheld: {},
  },
  SigningKeyGenerated: {
    stream: 'signing-keyring',
    published: ['kid', 'alg', 'publicJwk', 'purpose', 'generatedAt', 'activatesAt'],
    withheld: { sealedPrivateJwk: 'sealed key' },
  },
  SigningKeyActivated: { stream: 'signing-keyring', published: ['kid', 'activatedAt'], withheld: {} },
  StreamsArchived: {
    stream: 'retention',
    published: ['archiveId', 'file', 'streams', 'events', 'firstPosition', 'lastPosition', 'sha256'],
    withheld: {},
  },
  StreamRestored: {
    stream: 'retention',
    published: ['streamId', 'archives', 'events', 'firstPosition', 'lastPosition'],
    withheld: {},
  },
  SigningKeyRetired: {
    stream: 'signing-keyring',
    published: ['kid', 'retiredAt', 'publishUntil'],
    withheld: {},
  },
} as const satisfies Record<string, PublishedEventType>;

export type PublishedEventTypeName = keyof typeof PUBLISHED_EVENTS;

const declarations: ReadonlyMap<string, PublishedEventType> = new Map(Object.entries(PUBLISHED_EVENTS));

/** The declaration of an event type, or undefined: such a type is published without data. */
export function publishedEventType(type: string): PublishedEventType | undefined {
  return declarations.get(type);
}

function pick(source: unknown, fields: readonly string[]): Record<string, unknown> | null {
  if (source === null || typeof source !== 'object' || Array.isArray(source)) return null;
  const record = source as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const field of fields) if (Object.hasOwn(record, field)) out[field] = record[field];
  return out;
}

/**
 * The published form of a stored event: the envelope (position, ids, type, versions, time), the
 * declared data fields, and the metadata's correlation id, causation id and actor. The hash-chain
 * link is not published (it verifies against the stored row only, and over a withheld low-entropy
 * field, a username, it would let anyone confirm a guess).
 */
export function publishedForm(event: RecordedEvent): PublishedEvent {
  const declared = declarations.get(event.type);
  return {
    globalPosition: event.globalPosition,
    eventId: event.eventId,
    streamId:
      declared === undefined || declared.streamIdWithheld !== undefined
        ? streamCategory(event.streamId)
        : event.streamId,
    streamVersion: event.streamVersion,
    type: event.type,
    schemaVersion: event.schemaVersion,
    data: declared === undefined ? null : pick(event.data, declared.published),
    metadata: pick(event.metadata, METADATA_PUBLISHED) ?? {},
    recordedAt: event.recordedAt,
  };
}

const code = (text: string) => `\`${text}\``;

/**
 * docs/events.md "What a stream consumer receives": one row per declared type (generated by
 * `node scripts/published-events-doc.mjs`; a unit test keeps the page in step with this table).
 */
export function publishedEventsTable(): string {
  const rows = Object.entries(PUBLISHED_EVENTS as Record<string, PublishedEventType>)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([type, d]) => {
      const withheld = Object.entries(d.withheld).map(([field, why]) => `${code(field)} (${why})`);
      const stream =
        d.streamIdWithheld === undefined
          ? code(d.stream)
          : `${code(streamCategory(d.stream))} (the id is withheld: ${d.streamIdWithheld})`;
      return `| ${code(type)} | ${stream} | ${d.published.map(code).join(', ')} | ${withheld.join(', ') || '—'} |`;
    });
  const reasons = Object.entries(WITHHELD_BECAUSE).map(([key, text]) => `- **${key}**: ${text}.`);
  return [
    '| type | `streamId` in the message | `data` fields published | withheld (never in a message) |',
    '|---|---|---|---|',
    ...rows,
    '',
    ...reasons,
  ].join('\n');
}
