import type { AdminAuthConfig } from './admin.js';
import { readAdminAudience, readAdminToken } from './admin.js';
import { type BackchannelLogoutConfig, readBackchannelLogoutSettings } from './backchannel-logout.js';
import { type BrandConfig, readBrandConfig } from './brand.js';
import { type DatabaseConfig, readDatabaseConfig } from './database.js';
import { type NatsConfig, readNatsConfig } from './bus.js';
import { ConfigError, type Env, str } from './env.js';
import { type AdminPlaneConfig, type GatewayConfig, readHttpConfig, readIssuer } from './http-edge.js';
import {
  type CookieKeysConfig,
  keysetOf,
  readKeyEncryptionKey,
  readPreviousKeyEncryptionKeys,
  readPairwiseSubjectKey,
  readPersonalDataKey,
  type PersonalDataConfig,
  type PairwiseSubjectConfig,
  type SecretHashingConfig,
} from './keys.js';
import { type OutboundConfig, outboundSettings } from './outbound.js';
import { type ClientRegistryConfig, readClientRegistrySettings } from './clients.js';
import { type ConsentConfig, readConsentSettings } from './consent.js';
import { type OpsConfig, readOpsConfig } from './ops.js';
import { readTokenSettings, type SigningKeyConfig } from './tokens.js';

/**
 * Every setting of the system, read from the environment, typed, validated and documented here
 * (STYLE.md habit 9). Each service asks for the slice it needs through the small `*Config` types.
 * docs/configuration.md lists the same keys for operators.
 */

export { ConfigError } from './env.js';
export type { AdminAuthConfig } from './admin.js';
export { BACKCHANNEL_LOGOUT_MAX_DELAY_MS, type BackchannelLogoutConfig } from './backchannel-logout.js';
export type { BrandConfig } from './brand.js';
export type { NatsConfig } from './bus.js';
export type { ClientRegistryConfig } from './clients.js';
export type { ConsentConfig } from './consent.js';
export type { DatabaseConfig } from './database.js';
export {
  type ExampleClientConfig,
  loadExampleClientConfig,
  loadResourceServerConfig,
  type ResourceServerConfig,
} from './examples.js';
export type { AdminPlaneConfig, GatewayConfig, HttpEdgeConfig, IssuerConfig } from './http-edge.js';
export type {
  CookieKeysConfig,
  PairwiseSubjectConfig,
  PersonalDataConfig,
  SecretHashingConfig,
} from './keys.js';
export { DEFAULT_OPS_PORTS, type OpsConfig } from './ops.js';
export type { OutboundConfig } from './outbound.js';
export {
  MAX_CLIENT_ACCESS_TOKEN_TTL_SECONDS,
  MAX_CLIENT_REFRESH_TOKEN_TTL_SECONDS,
  type SigningKeyConfig,
} from './tokens.js';

export interface Config
  extends
    DatabaseConfig,
    NatsConfig,
    GatewayConfig,
    AdminPlaneConfig,
    AdminAuthConfig,
    SecretHashingConfig,
    CookieKeysConfig,
    SigningKeyConfig,
    PairwiseSubjectConfig,
    PersonalDataConfig,
    ClientRegistryConfig,
    OutboundConfig,
    ConsentConfig,
    BackchannelLogoutConfig,
    BrandConfig,
    OpsConfig {
  nodeEnv: string;
  /** LOG_LEVEL: error, warn, log (default), debug. */
  logLevel: 'error' | 'warn' | 'log' | 'debug';
}

/** Secrets, validated only when first used, so that a process that does not need one does not require it. */
const LAZY_SECRETS: Record<string, (env: Env) => unknown> = {
  adminToken: readAdminToken,
  secretHashKeys: (env) => keysetOf(env, 'secretHashKeys'),
  cookieSealingKeys: (env) => keysetOf(env, 'cookieSealingKeys'),
  csrfKeys: (env) => keysetOf(env, 'csrfKeys'),
  keyEncryptionKey: readKeyEncryptionKey,
  previousKeyEncryptionKeys: readPreviousKeyEncryptionKeys,
  pairwiseSubjectKey: readPairwiseSubjectKey,
  personalDataKey: readPersonalDataKey,
};

/**
 * Reads the configuration, slice by slice. Secrets are validated only when first used, so a process
 * that does not need one (the gateway needs no signing key) does not require it.
 */
export function loadConfig(env: Env = process.env): Config {
  const logLevel = str(env, 'LOG_LEVEL', 'log');
  if (!['error', 'warn', 'log', 'debug'].includes(logLevel)) {
    throw new ConfigError(`LOG_LEVEL must be error, warn, log or debug, got "${logLevel}"`);
  }
  const nats = readNatsConfig(env);
  const { issuer } = readIssuer(env);
  const http = readHttpConfig(env);
  const config: Record<string, unknown> = {
    nodeEnv: str(env, 'NODE_ENV', 'development'),
    logLevel,
    ...readDatabaseConfig(env),
    ...nats,
    issuer,
    ...http,
    ...readClientRegistrySettings(env),
    ...readTokenSettings(env, http.jwksMaxAgeSeconds),
    ...readConsentSettings(env),
    ...readBackchannelLogoutSettings(env),
    ...readBrandConfig(env, issuer),
    ...readOpsConfig(env),
    ...readAdminAudience(env, issuer),
    ...outboundSettings(env, nats.rpcTimeoutMs),
  };
  for (const [name, read] of Object.entries(LAZY_SECRETS)) {
    let cached: unknown;
    Object.defineProperty(config, name, { enumerable: false, get: () => (cached ??= read(env)) });
  }
  return config as unknown as Config;
}
