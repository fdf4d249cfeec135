import type { ClientProxy } from '@nestjs/microservices';
import { RpcClient } from '#lib/service-runtime';
import { GATEWAY_CONFIG, type GatewaySettings, SERVICES_PROXY } from './gateway.tokens.js';

export const RPC_CLIENT = Symbol('RPC_CLIENT');

export const rpcClientProvider = {
  provide: RPC_CLIENT,
  inject: [SERVICES_PROXY, GATEWAY_CONFIG],
  useFactory: (proxy: ClientProxy, config: GatewaySettings) => new RpcClient(proxy, config.rpcTimeoutMs),
};
