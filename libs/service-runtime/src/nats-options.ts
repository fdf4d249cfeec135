import type { NatsConfig } from '#lib/config';

/**
 * Connection options shared by every NATS connection of the system. Reconnection never gives up
 * (issue 2: when NATS comes back, everything recovers without a process restart).
 */
export function natsConnectionOptions(config: NatsConfig, name: string) {
  return {
    servers: config.natsServers,
    name,
    user: config.natsUser,
    pass: config.natsPassword,
    token: config.natsToken,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    reconnectJitter: 100,
    waitOnFirstConnect: false,
    timeout: 3000,
  };
}
