import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  type IntrospectRequest,
  type RevokeRequest,
  Subjects,
  type TokenStatusRequest,
  type TokenStatusResponse,
} from '#lib/contracts';
import { IntrospectTokenHandler } from './introspect-token/introspect-token.handler.js';
import { RevokeTokenHandler } from './revoke-token/revoke-token.handler.js';
import { TokenStateService } from './token-state/token-state.service.js';

@Controller()
export class IntrospectionNatsController {
  constructor(
    private readonly introspectHandler: IntrospectTokenHandler,
    private readonly revokeHandler: RevokeTokenHandler,
    private readonly tokenState: TokenStateService,
  ) {}

  /** RFC 7009 §2 read-your-writes for the system's own checks: revoked once /revoke answered. */
  @MessagePattern(Subjects.introspection.tokenStatus)
  async tokenStatus(@Payload() request: TokenStatusRequest): Promise<TokenStatusResponse> {
    if (typeof request?.jti !== 'string') return { status: 'unknown' };
    const row = await this.tokenState.getFresh(request.jti);
    return { status: row === null ? 'unknown' : row.status };
  }

  @MessagePattern(Subjects.introspection.introspect)
  introspect(@Payload() request: IntrospectRequest) {
    return this.introspectHandler.handle(request);
  }

  @MessagePattern(Subjects.introspection.revoke)
  revoke(@Payload() request: RevokeRequest) {
    return this.revokeHandler.handle(request);
  }
}
