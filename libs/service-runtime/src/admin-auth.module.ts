import { type DynamicModule, Inject, Injectable, Module } from '@nestjs/common';
import type { ClientProxy } from '@nestjs/microservices';
import { AdminAuthenticator, JwksSource } from '#lib/admin-auth';
import type { AdminAuthConfig, NatsConfig } from '#lib/config';
import { type AdminCommand, type RequestContext, Subjects, type TokenStatusResponse } from '#lib/contracts';
import { ClientViews } from '#lib/domain-client';
import type { EventStore } from '#lib/event-store';
import type { JSONWebKeySet } from 'jose';
import { acceptCorrelationId } from './correlation.js';
import { RpcClient } from './rpc-client.js';
import { natsProxyModule } from './service-rpc.js';
import { ADMIN_AUTH_CONFIG, ADMIN_AUTHENTICATOR, BUS_CONFIG, EVENT_STORE } from './tokens.js';

/**
 * A privileged command's way in: the credential it carries is verified here, in the service that
 * owns the command, and the verified actor is what the command's events record.
 */
@Injectable()
export class AdminGate {
  constructor(@Inject(ADMIN_AUTHENTICATOR) private readonly authenticator: AdminAuthenticator) {}

  async admit(request: AdminCommand): Promise<{ context: RequestContext; actor: string }> {
    const principal = await this.authenticator.authenticate(request?.credential);
    const correlationId = request.context?.correlationId;
    const callerRequestId = acceptCorrelationId(request.context?.callerRequestId);
    return {
      context: {
        correlationId: typeof correlationId === 'string' ? correlationId : 'unknown',
        ...(callerRequestId ? { callerRequestId } : {}),
      },
      actor: principal.actor,
    };
  }
}
const ADMIN_AUTH_PROXY = 'ADMIN_AUTH_PROXY';

/**
 * The authenticator a service uses to decide its privileged commands itself: it reads the issuer's
 * keys from the token service and the token's revocation from the introspection service over
 * NATS, and the client's privileges and status from its stream (ClientViews, confirmed against the
 * stream's current version), each when a command arrives.
 */
export function adminAuthenticator(
  rpc: RpcClient,
  clients: ClientViews,
  config: AdminAuthConfig,
): AdminAuthenticator {
  const jwks = new JwksSource(() => rpc.request<JSONWebKeySet>(Subjects.token.jwks, {}));
  return new AdminAuthenticator(
    {
      keys: (kid) => jwks.keys(kid),
      client: (clientId) => clients.view(clientId),
      tokenActive: async (jti) =>
        (await rpc.request<TokenStatusResponse>(Subjects.introspection.tokenStatus, { jti })).status ===
        'active',
    },
    { issuer: config.issuer, audience: config.adminAudience, bootstrapToken: config.adminToken },
  );
}

/**
 * Needs the service to declare ADMIN_AUTH_CONFIG and BUS_CONFIG (ServiceConfigModule), and the
 * event store (EventStoreModule).
 */
@Module({})
export class AdminAuthModule {
  static forService(serviceName: string): DynamicModule {
    return {
      module: AdminAuthModule,
      imports: [natsProxyModule(ADMIN_AUTH_PROXY, `${serviceName}-admin-auth`)],
      providers: [
        {
          provide: ADMIN_AUTHENTICATOR,
          inject: [ADMIN_AUTH_PROXY, BUS_CONFIG, ADMIN_AUTH_CONFIG, EVENT_STORE],
          useFactory: (proxy: ClientProxy, bus: NatsConfig, admin: AdminAuthConfig, store: EventStore) =>
            adminAuthenticator(new RpcClient(proxy, bus.rpcTimeoutMs), new ClientViews(store), admin),
        },
        AdminGate,
      ],
      exports: [ADMIN_AUTHENTICATOR, AdminGate],
    };
  }
}
