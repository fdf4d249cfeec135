import { ClientProxyFactory, Transport } from '@nestjs/microservices';
import type { Config } from '#lib/config';
import type { AdminCommand } from '#lib/contracts';
import { randomUUID } from 'node:crypto';
import { natsConnectionOptions, redactUrl, RpcClient } from '#lib/service-runtime';
import { CliError } from './output.js';

/** What the operator reads when the bus cannot be reached: where, which setting, what to check. */
export function natsUnreachable(servers: readonly string[], err: unknown): string {
  const reason = err instanceof Error ? err.message : String(err);
  return (
    `cannot reach NATS at ${servers.map(redactUrl).join(',')} (NATS_URL): ${reason}. ` +
    'Check that nats-server runs there with JetStream and that NATS_URL names it (inside a cluster: ' +
    "the NATS Service, see deploy/), and that NATS_USER/NATS_PASSWORD are the CLI's bus user. " +
    'From outside the cluster, use the admin API instead: --admin-url URL (or ADMIN_URL).'
  );
}

/** The CLI speaks to the running services over NATS, like the gateway does. */
export async function withRpc<T>(config: Config, work: (rpc: RpcClient) => Promise<T>): Promise<T> {
  const proxy = ClientProxyFactory.create({
    transport: Transport.NATS,
    options: { ...natsConnectionOptions(config, 'cli'), maxReconnectAttempts: 0 },
  });
  try {
    await proxy.connect();
  } catch (err) {
    await proxy.close().catch(() => undefined);
    throw new CliError(natsUnreachable(config.natsServers, err));
  }
  try {
    return await work(new RpcClient(proxy, config.rpcTimeoutMs));
  } finally {
    await proxy.close();
  }
}

/**
 * The administrator's credential the CLI presents with every privileged command: ADMIN_ACCESS_TOKEN
 * (an access token for the admin API) when set, else the bootstrap ADMIN_TOKEN (from the
 * environment or `.data/secrets.env`). The owning service verifies it and records its actor.
 */
export function adminCommand(config: Config): AdminCommand {
  const credential = process.env.ADMIN_ACCESS_TOKEN || config.adminToken;
  if (!credential) {
    throw new Error(
      'the CLI needs an administrator credential: set ADMIN_ACCESS_TOKEN (an access token for the admin API) or ADMIN_TOKEN',
    );
  }
  return { context: { correlationId: randomUUID() }, credential };
}
