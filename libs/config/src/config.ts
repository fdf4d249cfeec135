import { z } from 'zod';
import { adminAudienceSettings, type AdminAuthConfig, adminTokenSettings } from './admin.js';
import {
  type AuditCheckpointConfig,
  auditCheckpointSettings,
  auditCheckpointSigningKeySettings,
} from './audit.js';
import { type BackchannelLogoutConfig, backchannelLogoutSettings } from './backchannel-logout.js';
import { type BrandConfig, brandSettings } from './brand.js';
import { busSettings, type NatsConfig } from './bus.js';
import { type ClientRegistryConfig, clientRegistrySettings } from './clients.js';
import { type ConsentConfig, consentSettings } from './consent.js';
import { type DatabaseConfig, databaseSettings } from './database.js';
import { type Env, oneOf, readEnv, settings } from './env.js';
import { type AdminPlaneConfig, type GatewayConfig, httpSettings, issuerSettings } from './http-edge.js';
import {
  type CookieKeysConfig,
  keyEncryptionKeySettings,
  keysetSettings,
  type PairwiseSubjectConfig,
  pairwiseSubjectSettings,
  type PersonalDataConfig,
  personalDataSettings,
  previousKeyEncryptionKeySettings,
  type SecretHashingConfig,
} from './keys.js';
import { type OpsConfig, opsSettings } from './ops.js';
import { type OutboundConfig, outboundSettings } from './outbound.js';
import { type RetentionConfig, retentionSettings, retentionSigningKeySettings } from './retention.js';
import { type SigningKeyConfig, tokenSettings } from './tokens.js';

/**
 * Every setting of the system, read from the environment, typed, validated (a zod schema per slice)
 * and documented here (STYLE.md habit 9). Each service asks for the slice it needs through the small `*Config` types.
 * docs/configuration.md lists the same keys for operators.
 */

export { ConfigError } from './env.js';
export type { AdminAuthConfig } from './admin.js';
export type { AuditCheckpointConfig } from './audit.js';
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
export type { RetentionConfig, RetentionJwk } from './retention.js';
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
    AuditCheckpointConfig,
    RetentionConfig,
    OpsConfig,
    GeneralConfig {}

type GeneralConfig = z.output<typeof generalSettings>;
const generalSettings = settings({
  nodeEnv: ['NODE_ENV', z.string().default('development')],
  /** LOG_LEVEL: error, warn, log (default), debug. */
  logLevel: ['LOG_LEVEL', oneOf(['error', 'warn', 'log', 'debug']).default('log')],
});

/** The schema of each slice; a variable some of them share is checked once. */
const SETTINGS = [
  generalSettings,
  databaseSettings,
  busSettings,
  issuerSettings,
  httpSettings,
  clientRegistrySettings,
  tokenSettings,
  consentSettings,
  backchannelLogoutSettings,
  brandSettings,
  auditCheckpointSettings,
  retentionSettings,
  opsSettings,
  adminAudienceSettings,
  outboundSettings,
];

/** Secrets, validated only when first used, so that a process that does not need one does not require it. */
const LAZY_SECRETS: Record<string, z.ZodType> = {
  adminToken: adminTokenSettings,
  secretHashKeys: keysetSettings('secretHashKeys'),
  cookieSealingKeys: keysetSettings('cookieSealingKeys'),
  csrfKeys: keysetSettings('csrfKeys'),
  keyEncryptionKey: keyEncryptionKeySettings,
  previousKeyEncryptionKeys: previousKeyEncryptionKeySettings,
  pairwiseSubjectKey: pairwiseSubjectSettings,
  personalDataKey: personalDataSettings,
  auditCheckpointSigningKey: auditCheckpointSigningKeySettings,
  retentionSigningKey: retentionSigningKeySettings,
};

/**
 * Reads the configuration, slice by slice, reporting every malformed setting at once. Secrets are
 * validated only when first used, so a process that does not need one (the gateway needs no
 * signing key) does not require it.
 */
export function loadConfig(env: Env = process.env): Config {
  const config = readEnv<Record<string, unknown>>(SETTINGS, env);
  for (const [name, schema] of Object.entries(LAZY_SECRETS)) {
    let cached: unknown;
    Object.defineProperty(config, name, {
      enumerable: false,
      get: () => (cached ??= readEnv<Record<string, unknown>>([schema], env)[name]),
    });
  }
  return config as unknown as Config;
}
