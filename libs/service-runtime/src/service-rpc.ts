import type { DynamicModule, Provider } from '@nestjs/common';
import { type ClientProxy, ClientsModule, Transport } from '@nestjs/microservices';
import type { NatsConfig } from '#lib/config';
import { natsConnectionOptions } from './nats-options.js';
import { RpcClient } from './rpc-client.js';
import { BUS_CONFIG } from './tokens.js';

/**
 * The NATS client (Nest's ClientNats, under `proxy`) a service calls other services with, as the
 * bus user `user`; its settings come from the service's BUS_CONFIG when the module is built.
 */
export function natsProxyModule(proxy: string, user: string): DynamicModule {
  return ClientsModule.registerAsync([
    {
      name: proxy,
      inject: [BUS_CONFIG],
      useFactory: (bus: NatsConfig) => ({
        transport: Transport.NATS,
        options: natsConnectionOptions(bus, user),
      }),
    },
  ]);
}

/** The request/reply client (`token`) over the NATS client `proxy`, with RPC_TIMEOUT_MS. */
export function serviceRpcProvider(token: symbol, proxy: string): Provider {
  return {
    provide: token,
    inject: [proxy, BUS_CONFIG],
    useFactory: (client: ClientProxy, bus: NatsConfig) => new RpcClient(client, bus.rpcTimeoutMs),
  };
}
