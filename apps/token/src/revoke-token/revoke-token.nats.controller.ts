import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { type RevokeRequest, Subjects } from '#lib/contracts';
import { RevokeTokenHandler } from './revoke-token.handler.js';

/** Reached by the introspection service only (libs/contracts bus-permissions.ts). */
@Controller()
export class RevokeTokenNatsController {
  constructor(private readonly handler: RevokeTokenHandler) {}

  @MessagePattern(Subjects.token.revoke)
  revoke(@Payload() request: RevokeRequest) {
    return this.handler.handle(request);
  }
}
