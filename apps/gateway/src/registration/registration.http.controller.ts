import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { Controller, Delete, Get, HttpCode, Inject, Param, Post, Put, Req, Res } from '@nestjs/common';
import {
  type ClientManagementRequest,
  type ClientView,
  type RegisterDynamicClientRequest,
  type RegisterDynamicClientResponse,
  Subjects,
  type UpdateClientRequest,
} from '#lib/contracts';
import { clientMetadataDocument } from '#lib/domain-client';
import { OAuthError } from '#lib/oauth-errors';
import type { RpcClient } from '#lib/service-runtime';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { bearerToken, noStore, readJson, requestContext, RPC_CLIENT, sendJson } from '#lib/http-edge';
import { GATEWAY_CONFIG, type GatewaySettings } from '../gateway.tokens.js';

/** RFC 7591 (dynamic registration) and RFC 7592 (the client's own management of its registration). */
@ApiTags('registration (RFC 7591, RFC 7592)')
@ApiBearerAuth()
@Controller('register')
export class RegistrationHttpController {
  constructor(
    @Inject(RPC_CLIENT) private readonly rpc: RpcClient,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewaySettings,
  ) {}

  private registrationClientUri(clientId: string): string {
    return `${this.config.issuer}/register/${encodeURIComponent(clientId)}`;
  }

  @Post()
  async register(@Req() request: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    const command: RegisterDynamicClientRequest = {
      context: requestContext(request),
      document: readJson(request),
      initialAccessToken: bearerToken(request),
    };
    const result = await this.rpc.request<RegisterDynamicClientResponse>(
      Subjects.client.registerDynamic,
      command,
    );
    // RFC 7591 §3.2.1: 201 with the client information (client_secret_expires_at among it); the
    // secret is shown this once.
    const body: Record<string, unknown> = {
      ...clientMetadataDocument(result.client),
      registration_access_token: result.registrationAccessToken,
      registration_client_uri: this.registrationClientUri(result.client.clientId),
    };
    if (result.clientSecret !== undefined) body.client_secret = result.clientSecret;
    sendJson(reply, 201, body);
  }

  private management(request: FastifyRequest, clientId: string): ClientManagementRequest {
    const token = bearerToken(request);
    // RFC 7592 §2: the registration access token is required (RFC 6750 §3.1: 401 invalid_token).
    if (token === undefined) {
      throw new OAuthError('invalid_token', 'the registration access token is required', {
        headers: { 'WWW-Authenticate': 'Bearer' },
      });
    }
    return { context: requestContext(request), clientId, registrationAccessToken: token };
  }

  private respond(reply: FastifyReply, view: ClientView): void {
    sendJson(reply, 200, {
      ...clientMetadataDocument(view),
      registration_client_uri: this.registrationClientUri(view.clientId),
    });
  }

  @Get(':clientId')
  async read(
    @Param('clientId') clientId: string,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    const view = await this.rpc.request<ClientView>(Subjects.client.read, this.management(request, clientId));
    this.respond(reply, view);
  }

  @Put(':clientId')
  async update(
    @Param('clientId') clientId: string,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    const command: UpdateClientRequest = {
      ...this.management(request, clientId),
      document: readJson(request),
    };
    const view = await this.rpc.request<ClientView>(Subjects.client.update, command);
    this.respond(reply, view);
  }

  @Delete(':clientId')
  @HttpCode(204)
  async delete(
    @Param('clientId') clientId: string,
    @Req() request: FastifyRequest,
    @Res() reply: FastifyReply,
  ) {
    await this.rpc.request(Subjects.client.delete, this.management(request, clientId));
    // RFC 7592 §2.3: 204 No Content.
    void noStore(reply).status(204).send();
  }
}
