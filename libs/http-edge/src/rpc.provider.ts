import type { ClientProxy } from '@nestjs/microservices';
import type { NatsConfig } from '#lib/config';
import { RpcClient } from '#lib/service-runtime';

/** Injection tokens of an HTTP listener's module: its NATS proxy and the request/reply client over it. */
export const SERVICES_PROXY = 'SERVICES_PROXY';
export const RPC_CLIENT = Symbol('RPC_CLIENT');
/** The edge's slice of the configuration: the bus, the public listener and the brand of its pages. */
export const EDGE_CONFIG = Symbol('EDGE_CONFIG');

export const rpcClientProvider = {
  provide: RPC_CLIENT,
  inject: [SERVICES_PROXY, EDGE_CONFIG],
  useFactory: (proxy: ClientProxy, config: NatsConfig) => new RpcClient(proxy, config.rpcTimeoutMs),
};
