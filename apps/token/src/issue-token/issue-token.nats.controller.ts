import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { type HealthResponse, Subjects, type TokenGrantRequest } from '#lib/contracts';
import { KeyringService } from '../signing-keys/keyring.service.js';
import { IssueTokenHandler } from './issue-token.handler.js';

@Controller()
export class IssueTokenNatsController {
  constructor(
    private readonly handler: IssueTokenHandler,
    private readonly keyring: KeyringService,
  ) {}

  @MessagePattern(Subjects.token.grant)
  token(@Payload() request: TokenGrantRequest) {
    return this.handler.handle(request);
  }

  @MessagePattern(Subjects.token.jwks)
  jwks() {
    return this.keyring.jwks();
  }

  @MessagePattern(Subjects.token.health)
  health(): HealthResponse {
    this.keyring.activeKey();
    return { service: 'token', status: 'ok' };
  }
}
