import type { NatsConfig } from '#lib/config';
import { inboxPrefixOf } from '#lib/contracts';

/**
 * Connection options shared by every NATS connection of the system. Reconnection never gives up
 * (when NATS comes back, everything recovers without a process restart).
 */
export function natsConnectionOptions(config: NatsConfig, name: string) {
  return {
    servers: config.natsServers,
    name,
    ...natsAuth(config),
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    reconnectJitter: 100,
    waitOnFirstConnect: false,
    timeout: 3000,
    // No stack captured per request (an Error each): a failed request is reported by its subject.
    noAsyncTraces: true,
  };
}

/**
 * Credentials (user/password or token) and TLS of every NATS connection. With NATS_TLS_CA_FILE
 * the connection is TLS and the server certificate is checked against that CA.
 */
export function natsAuth(config: NatsConfig) {
  const tls =
    config.natsTlsCaFile || config.natsTlsCertFile
      ? {
          ...(config.natsTlsCaFile ? { caFile: config.natsTlsCaFile } : {}),
          ...(config.natsTlsCertFile
            ? { certFile: config.natsTlsCertFile, keyFile: config.natsTlsKeyFile }
            : {}),
        }
      : undefined;
  return {
    user: config.natsUser,
    pass: config.natsPassword,
    token: config.natsToken,
    // Replies come to the user's own inbox, the only one its permissions let it read.
    ...(config.natsUser ? { inboxPrefix: inboxPrefixOf(config.natsUser) } : {}),
    ...(tls ? { tls } : {}),
  };
}
