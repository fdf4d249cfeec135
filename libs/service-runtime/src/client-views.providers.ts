import type { Provider } from '@nestjs/common';
import type { ClientAuthenticationConfig, KeyringVerifierConfig, SecretHashingConfig } from '#lib/config';
import { ClientDirectory, ClientViews } from '#lib/domain-client';
import type { EventStore } from '#lib/event-store';
import { KeyringVerifier } from '#lib/signing-keys';
import {
  CLIENT_AUTHENTICATION_CONFIG,
  EVENT_STORE,
  KEYRING_VERIFIER_CONFIG,
  SECRET_HASHING_CONFIG,
} from './tokens.js';

/**
 * How a service that does not own `client-*` reads clients (libs/domain-client ClientViews, and
 * its one freshness rule), provided under `token`.
 */
export function clientViewsProvider(token: symbol): Provider {
  return { provide: token, inject: [EVENT_STORE], useFactory: (store: EventStore) => new ClientViews(store) };
}

/** ClientViews that also authenticate clients (ClientDirectory), under `token`. */
export function clientDirectoryProvider(token: symbol): Provider {
  return {
    provide: token,
    inject: [EVENT_STORE, SECRET_HASHING_CONFIG, CLIENT_AUTHENTICATION_CONFIG],
    useFactory: (store: EventStore, hashing: SecretHashingConfig, c: ClientAuthenticationConfig) =>
      new ClientDirectory(store, {
        secretHashKeys: hashing.secretHashKeys,
        throttle: { maxFailures: c.clientAuthMaxFailures, windowSeconds: c.clientAuthFailureWindowSeconds },
      }),
  };
}

/** Access tokens verified against the keyring stream (libs/signing-keys), under `token`. */
export function keyringVerifierProvider(token: symbol): Provider {
  return {
    provide: token,
    inject: [EVENT_STORE, KEYRING_VERIFIER_CONFIG],
    useFactory: (store: EventStore, c: KeyringVerifierConfig) =>
      new KeyringVerifier(store, c.issuer, 1000, c.keyringRefreshSeconds * 1000),
  };
}
