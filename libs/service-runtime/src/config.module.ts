import { type DynamicModule, Module } from '@nestjs/common';
import { ConfigModule, registerAs } from '@nestjs/config';
import { CONFIG_SLICES, type Config, configSlice, loadConfig } from '#lib/config';
import {
  ADMIN_AUTH_CONFIG,
  AUDIT_CHECKPOINT_CONFIG,
  AUTHORIZATION_CODE_CONFIG,
  BACKCHANNEL_LOGOUT_CONFIG,
  BUS_CONFIG,
  CLIENT_AUTHENTICATION_CONFIG,
  CLIENT_REGISTRY_CONFIG,
  CONSENT_CONFIG,
  COOKIE_KEYS_CONFIG,
  DATABASE_CONFIG,
  ISSUER_CONFIG,
  KEYRING_VERIFIER_CONFIG,
  PAIRWISE_SUBJECT_CONFIG,
  PERSONAL_DATA_CONFIG,
  REGISTRATION_POLICY_CONFIG,
  SECRET_HASHING_CONFIG,
  TOKENS_CONFIG,
} from './tokens.js';

/** Each slice's injection token and the keys it carries. */
const SLICES = new Map<symbol, readonly (keyof Config)[]>([
  [DATABASE_CONFIG, CONFIG_SLICES.database],
  [BUS_CONFIG, CONFIG_SLICES.bus],
  [ISSUER_CONFIG, CONFIG_SLICES.issuer],
  [SECRET_HASHING_CONFIG, CONFIG_SLICES.secretHashing],
  [COOKIE_KEYS_CONFIG, CONFIG_SLICES.cookieKeys],
  [ADMIN_AUTH_CONFIG, CONFIG_SLICES.adminAuth],
  [TOKENS_CONFIG, CONFIG_SLICES.tokens],
  [PAIRWISE_SUBJECT_CONFIG, CONFIG_SLICES.pairwiseSubject],
  [PERSONAL_DATA_CONFIG, CONFIG_SLICES.personalData],
  [KEYRING_VERIFIER_CONFIG, CONFIG_SLICES.keyringVerifier],
  [AUTHORIZATION_CODE_CONFIG, CONFIG_SLICES.authorizationCode],
  [CONSENT_CONFIG, CONFIG_SLICES.consent],
  [BACKCHANNEL_LOGOUT_CONFIG, CONFIG_SLICES.backchannelLogout],
  [CLIENT_AUTHENTICATION_CONFIG, CONFIG_SLICES.clientAuthentication],
  [REGISTRATION_POLICY_CONFIG, CONFIG_SLICES.registrationPolicy],
  [CLIENT_REGISTRY_CONFIG, CONFIG_SLICES.clientRegistry],
  [AUDIT_CHECKPOINT_CONFIG, CONFIG_SLICES.auditCheckpoints],
]);

/**
 * The whole configuration under @nestjs/config (injected as `authzConfig.KEY`), read by
 * libs/config's schemas (the same as `loadConfig` outside Nest) when the module is built, not when
 * a file is imported: a malformed setting reaches the caller of NestFactory as a ConfigError (exit
 * status 78). No .env file is read: the environment is the process's.
 */
export const authzConfig = registerAs('authz', () => loadConfig());

export function authzConfigModule(): Promise<DynamicModule> {
  return ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, load: [authzConfig] });
}

/**
 * A service's configuration, in the slices it declares: `forService([TOKENS_CONFIG, ...])` provides
 * each of those tokens (global to the service's modules) with that slice alone; a slice not
 * declared cannot be injected.
 */
@Module({})
export class ServiceConfigModule {
  static forService(slices: readonly symbol[]): DynamicModule {
    return {
      module: ServiceConfigModule,
      global: true,
      imports: [authzConfigModule()],
      providers: [
        ...slices.map((token) => {
          const keys = SLICES.get(token);
          if (keys === undefined) throw new Error(`not a configuration slice: ${token.toString()}`);
          return {
            provide: token,
            inject: [authzConfig.KEY],
            useFactory: (config: Config) => configSlice(config, keys),
          };
        }),
      ],
      exports: [...slices],
    };
  }
}
