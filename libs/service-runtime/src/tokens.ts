/**
 * The injection tokens the services share: the event store and the bus, time and ids, the admin
 * authenticator, and one per configuration slice (libs/config `CONFIG_SLICES`), each provided by
 * `ServiceConfigModule` to the services that declare it.
 */

export const DATA_SOURCE = Symbol('DATA_SOURCE');
export const EVENT_STORE = Symbol('EVENT_STORE');
export const NATS_CONNECTION = Symbol('NATS_CONNECTION');
export const EVENT_RELAY = Symbol('EVENT_RELAY');
export const CLOCK = Symbol('CLOCK');
export const ID_GENERATOR = Symbol('ID_GENERATOR');
export const ADMIN_AUTHENTICATOR = Symbol('ADMIN_AUTHENTICATOR');

/** DatabaseConfig: the event store's Postgres. */
export const DATABASE_CONFIG = Symbol('DATABASE_CONFIG');
/** NatsConfig: the bus, its subjects' prefix, the events stream, the request timeout. */
export const BUS_CONFIG = Symbol('BUS_CONFIG');
/** IssuerConfig: the issuer identifier (RFC 8414 §2). */
export const ISSUER_CONFIG = Symbol('ISSUER_CONFIG');
/** SecretHashingConfig: the keys of stored hashes of secrets and tokens. */
export const SECRET_HASHING_CONFIG = Symbol('SECRET_HASHING_CONFIG');
/** CookieKeysConfig: the keys of the login session cookie and the forms' CSRF tokens. */
export const COOKIE_KEYS_CONFIG = Symbol('COOKIE_KEYS_CONFIG');
/** AdminAuthConfig: how a privileged command's credential is verified. */
export const ADMIN_AUTH_CONFIG = Symbol('ADMIN_AUTH_CONFIG');
/** SigningKeyConfig: token issuance, lifetimes and the signing keys. */
/** OpenID Connect Core §8.1: the key of pairwise subject identifiers (token, introspection). */
export const PAIRWISE_SUBJECT_CONFIG = Symbol('PAIRWISE_SUBJECT_CONFIG');
export const PERSONAL_DATA_CONFIG = Symbol('PERSONAL_DATA_CONFIG');
/** The per-person data keys (libs/personal-data DataKeys) of the service that owns personal data. */
export const DATA_KEYS = Symbol('DATA_KEYS');
export const TOKENS_CONFIG = Symbol('TOKENS_CONFIG');
/** KeyringVerifierConfig: verifying access tokens against the keyring stream. */
export const KEYRING_VERIFIER_CONFIG = Symbol('KEYRING_VERIFIER_CONFIG');
/** AuthorizationCodeConfig: the lifetime of an authorization code. */
export const AUTHORIZATION_CODE_CONFIG = Symbol('AUTHORIZATION_CODE_CONFIG');
/** ConsentConfig: the front channel, login sessions and login throttling. */
export const CONSENT_CONFIG = Symbol('CONSENT_CONFIG');
/** BackchannelLogoutConfig & OutboundConfig: Back-Channel Logout 1.0 deliveries and their guard. */
export const BACKCHANNEL_LOGOUT_CONFIG = Symbol('BACKCHANNEL_LOGOUT_CONFIG');
/** ClientAuthenticationConfig: the client-authentication throttle. */
export const CLIENT_AUTHENTICATION_CONFIG = Symbol('CLIENT_AUTHENTICATION_CONFIG');
/** ClientRegistryConfig: registration, its policy, client secrets and the outbound guard. */
export const CLIENT_REGISTRY_CONFIG = Symbol('CLIENT_REGISTRY_CONFIG');
/** RegistrationPolicyConfig: what RFC 7591/7592 self-service may register. */
export const REGISTRATION_POLICY_CONFIG = Symbol('REGISTRATION_POLICY_CONFIG');
/** AuditCheckpointConfig: signed checkpoints of the events' hash chain (introspection). */
export const AUDIT_CHECKPOINT_CONFIG = Symbol('AUDIT_CHECKPOINT_CONFIG');
