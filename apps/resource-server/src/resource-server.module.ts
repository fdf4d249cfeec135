import { Module } from '@nestjs/common';
import { ClientsModule, type ClientProxy, Transport } from '@nestjs/microservices';
import { loadConfig, loadResourceServerConfig } from '#lib/config';
import { ResourceGuardModule } from '#lib/resource-guard';
import { natsConnectionOptions, RpcClient } from '#lib/service-runtime';
import { HealthHttpController } from './health.http.controller.js';
import { MeHttpController } from './me/me.http.controller.js';
import { UserProfileService } from './me/user-profile.service.js';
import { NATS_PROXY, RESOURCE_RPC } from './resource-server.tokens.js';

const config = loadConfig();
const rs = loadResourceServerConfig();

@Module({
  imports: [
    ResourceGuardModule.forRoot({
      issuer: rs.issuer,
      audience: rs.audience,
      ...(rs.clientSecret ? { introspection: { clientId: rs.clientId, clientSecret: rs.clientSecret } } : {}),
    }),
    ClientsModule.register([
      {
        name: NATS_PROXY,
        transport: Transport.NATS,
        options: natsConnectionOptions(config, 'resource-server'),
      },
    ]),
  ],
  controllers: [MeHttpController, HealthHttpController],
  providers: [
    UserProfileService,
    {
      provide: RESOURCE_RPC,
      inject: [NATS_PROXY],
      useFactory: (proxy: ClientProxy) => new RpcClient(proxy, config.rpcTimeoutMs),
    },
  ],
})
export class ResourceServerModule {}
