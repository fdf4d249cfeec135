import type { AdminAuthConfig } from './admin.js';
import type { AuditCheckpointConfig } from './audit.js';
import type { BackchannelLogoutConfig } from './backchannel-logout.js';
import type { BrandConfig } from './brand.js';
import type { NatsConfig } from './bus.js';
import type { ClientRegistryConfig } from './clients.js';
import type { OutboundConfig } from './outbound.js';
import type { Config } from './config.js';
import type { ConsentConfig } from './consent.js';
import type { DatabaseConfig } from './database.js';
import type { GatewayConfig, IssuerConfig } from './http-edge.js';
import type {
  CookieKeysConfig,
  PairwiseSubjectConfig,
  PersonalDataConfig,
  SecretHashingConfig,
} from './keys.js';
import type { RetentionConfig } from './retention.js';
import type { SigningKeyConfig } from './tokens.js';

/**
 * The parts of the configuration a service is handed (each through its own injection token,
 * libs/service-runtime `ServiceConfigModule`), so that a use case receives the settings it works
 * with and nothing else (STYLE.md habit 9).
 */

/** Client authentication where it is decided (token, introspection, registry): its throttle. */
export type ClientAuthenticationConfig = Pick<
  ClientRegistryConfig,
  'clientAuthMaxFailures' | 'clientAuthFailureWindowSeconds'
>;
/** The authorization code's lifetime (RFC 6749 §4.1.2), which the token service records with it. */
export type AuthorizationCodeConfig = Pick<ConsentConfig, 'authorizationCodeTtlSeconds'>;
/** What verifies access tokens against the keyring stream: the issuer and how often to re-read it. */
export type KeyringVerifierConfig = Pick<SigningKeyConfig, 'issuer' | 'keyringRefreshSeconds'>;

/**
 * RFC 7591/7592 self-service's policy: the scopes and audiences a client may give itself, and the
 * token lifetimes it may name at most (the defaults of a client that names none).
 */
export type RegistrationPolicyConfig = Pick<
  ClientRegistryConfig,
  'privilegedScopes' | 'registrationAllowedScopes' | 'registrationAllowedAudiences'
> &
  Pick<SigningKeyConfig, 'accessTokenTtlSeconds' | 'refreshTokenAbsoluteTtlSeconds'>;

/** The keys of a slice: every key of `T` (a key added to `T` and missing here does not compile). */
export type SliceKeys<T> = readonly (keyof T & keyof Config)[];

function keysOf<T>() {
  return <const K extends readonly (keyof T & keyof Config)[]>(
    keys: K &
      (Exclude<keyof T, K[number]> extends never ? unknown : { missing: Exclude<keyof T, K[number]> }),
  ): SliceKeys<T> => keys;
}

export const CONFIG_SLICES = {
  database: keysOf<DatabaseConfig>()(['databaseUrl', 'databasePoolSize']),
  bus: keysOf<NatsConfig>()([
    'natsAllowUnauthenticated',
    'natsServers',
    'natsUser',
    'natsPassword',
    'natsToken',
    'natsTlsCaFile',
    'natsTlsCertFile',
    'natsTlsKeyFile',
    'subjectPrefix',
    'eventsStream',
    'rpcTimeoutMs',
  ]),
  issuer: keysOf<IssuerConfig>()(['issuer']),
  brand: keysOf<BrandConfig>()(['brandProductName', 'brandLogoUrl', 'brandPrimaryColor']),
  gateway: keysOf<GatewayConfig>()([
    'issuer',
    'httpRequestTimeoutMs',
    'httpHeadersTimeoutMs',
    'httpKeepAliveTimeoutMs',
    'trustProxy',
    'maxBodyBytes',
    'httpHost',
    'httpPort',
    'maxParameters',
    'jwksMaxAgeSeconds',
  ]),
  secretHashing: keysOf<SecretHashingConfig>()(['secretHashKeys']),
  cookieKeys: keysOf<CookieKeysConfig>()(['cookieSealingKeys', 'csrfKeys']),
  adminAuth: keysOf<AdminAuthConfig>()(['issuer', 'adminAudience', 'adminToken']),
  tokens: keysOf<SigningKeyConfig>()([
    'issuer',
    'keyEncryptionKey',
    'previousKeyEncryptionKeys',
    'signingAlg',
    'accessTokenTtlSeconds',
    'accessTokenMaxTtlSeconds',
    'grantStateCacheSize',
    'jwksMaxAgeSeconds',
    'signingKeyRotationSeconds',
    'signingKeyRetentionSeconds',
    'keyringRefreshSeconds',
    'refreshTokenIdleTtlSeconds',
    'refreshTokenAbsoluteTtlSeconds',
    'refreshTokenMaxTtlSeconds',
    'refreshTokenMaxRotations',
    'idTokenTtlSeconds',
  ]),
  pairwiseSubject: keysOf<PairwiseSubjectConfig>()(['pairwiseSubjectKey']),
  personalData: keysOf<PersonalDataConfig>()(['personalDataKey']),
  keyringVerifier: keysOf<KeyringVerifierConfig>()(['issuer', 'keyringRefreshSeconds']),
  authorizationCode: keysOf<AuthorizationCodeConfig>()(['authorizationCodeTtlSeconds']),
  consent: keysOf<ConsentConfig>()([
    'issuer',
    'authorizationCodeTtlSeconds',
    'authorizationRequestTtlSeconds',
    'loginSessionTtlSeconds',
    'loginMaxFailures',
    'loginFailureWindowSeconds',
    'loginMaxFailuresPerIp',
    'loginPasswordChecksConcurrency',
    'loginPasswordChecksQueue',
  ]),
  backchannelLogout: keysOf<BackchannelLogoutConfig & OutboundConfig>()([
    'backchannelLogoutMaxAttempts',
    'backchannelLogoutRetryBaseMs',
    'outboundAllow',
    'outboundTimeoutMs',
    'outboundMaxBytes',
  ]),
  clientAuthentication: keysOf<ClientAuthenticationConfig>()([
    'clientAuthMaxFailures',
    'clientAuthFailureWindowSeconds',
  ]),
  registrationPolicy: keysOf<RegistrationPolicyConfig>()([
    'privilegedScopes',
    'registrationAllowedScopes',
    'registrationAllowedAudiences',
    'accessTokenTtlSeconds',
    'refreshTokenAbsoluteTtlSeconds',
  ]),
  auditCheckpoints: keysOf<AuditCheckpointConfig>()([
    'auditCheckpointSigningKey',
    'auditCheckpointIntervalMs',
    'auditCheckpointDir',
  ]),
  clientRegistry: keysOf<ClientRegistryConfig>()([
    'issuer',
    'outboundAllow',
    'outboundTimeoutMs',
    'outboundMaxBytes',
    'privilegedScopes',
    'registrationAllowedScopes',
    'registrationAllowedAudiences',
    'clientAuthMaxFailures',
    'clientAuthFailureWindowSeconds',
    'openRegistration',
    'initialAccessTokenTtlSeconds',
    'clientSecretTtlSeconds',
    'clientAssertionLegacyAudience',
  ]),
  retention: keysOf<RetentionConfig>()([
    'retentionArchiveDir',
    'retentionAccessTokenDays',
    'retentionGrantDays',
    'retentionSessionDays',
    'retentionUserDays',
    'retentionDeleteBatch',
    'retentionDutyCycle',
    'retentionMaxArchives',
    'retentionSigningKey',
    'retentionVerifyKeys',
  ]),
} as const;

/**
 * The slice of `config` with `keys`, and nothing else. Each key is read from `config` when first
 * used, so a secret is still validated only by a process that uses it.
 */
export function configSlice<T>(config: Config, keys: readonly (keyof Config)[]): T {
  const slice = {};
  for (const key of new Set(keys)) {
    Object.defineProperty(slice, key, { enumerable: true, get: () => config[key] });
  }
  return Object.freeze(slice) as T;
}
