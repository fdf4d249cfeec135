import { ClientProxyFactory, Transport } from '@nestjs/microservices';
import type { Config } from '#lib/config';
import { natsConnectionOptions, RpcClient } from '#lib/service-runtime';

/** The CLI speaks to the running services over NATS, like the gateway does. */
export async function withRpc<T>(config: Config, work: (rpc: RpcClient) => Promise<T>): Promise<T> {
  const proxy = ClientProxyFactory.create({
    transport: Transport.NATS,
    options: { ...natsConnectionOptions(config, 'cli'), maxReconnectAttempts: 0 },
  });
  await proxy.connect();
  try {
    return await work(new RpcClient(proxy, config.rpcTimeoutMs));
  } finally {
    await proxy.close();
  }
}
