import { Controller, Get, Inject, Req, Res } from '@nestjs/common';
import { Subjects } from '#lib/contracts';
import { buildMetadata, buildOpenIdConfiguration } from '#lib/oauth-protocol';
import type { RpcClient } from '#lib/service-runtime';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { GATEWAY_CONFIG, type GatewaySettings } from '../gateway.tokens.js';
import { RPC_CLIENT } from '#lib/http-edge';

/** RFC 8414 §3 metadata, OpenID Connect Discovery 1.0 §4 configuration and the RFC 7517 JWK Set. */
@Controller()
export class DiscoveryHttpController {
  private readonly metadata: string;
  private readonly openIdConfiguration: string;

  constructor(
    @Inject(RPC_CLIENT) private readonly rpc: RpcClient,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewaySettings,
  ) {
    this.metadata = JSON.stringify(buildMetadata(config.issuer));
    this.openIdConfiguration = JSON.stringify(buildOpenIdConfiguration(config.issuer));
  }

  // RFC 8414 §3: the well-known URI is inserted between the host and the issuer's path.
  @Get('.well-known/oauth-authorization-server')
  discovery(@Res() reply: FastifyReply): void {
    void reply.header('Cache-Control', 'public, max-age=3600').type('application/json').send(this.metadata);
  }

  // OpenID Connect Discovery 1.0 §4: the issuer's path followed by /.well-known/openid-configuration.
  @Get('.well-known/openid-configuration')
  openIdDiscovery(@Res() reply: FastifyReply): void {
    void reply
      .header('Cache-Control', 'public, max-age=3600')
      .type('application/json')
      .send(this.openIdConfiguration);
  }

  @Get('jwks')
  async jwks(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const jwks = await this.rpc.request<{ keys: unknown[] }>(Subjects.token.jwks, {}, String(request.id));
    void reply
      .header('Cache-Control', `public, max-age=${this.config.jwksMaxAgeSeconds}`)
      .type('application/jwk-set+json')
      .send(JSON.stringify(jwks));
  }
}
