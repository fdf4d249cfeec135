import type { RegistrationPolicyConfig } from '#lib/config';
import type { RegistrationOrigin } from '#lib/domain-client';

/** The registration policy of RFC 7591/7592 self-service, from the operator's settings. */
export function selfService(config: RegistrationPolicyConfig): RegistrationOrigin {
  return {
    kind: 'self-service',
    policy: {
      privilegedScopes: config.privilegedScopes,
      allowedScopes: config.registrationAllowedScopes,
      allowedAudiences: config.registrationAllowedAudiences,
      maxAccessTokenTtlSeconds: config.accessTokenTtlSeconds,
      maxRefreshTokenTtlSeconds: config.refreshTokenAbsoluteTtlSeconds,
    },
  };
}

export function administrator(
  config: Pick<RegistrationPolicyConfig, 'privilegedScopes'>,
): RegistrationOrigin {
  return { kind: 'administrator', privilegedScopes: config.privilegedScopes };
}
