import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  type AccountRequest,
  type AccountRevokeRequest,
  type AuthorizeRequest,
  type ConsentDecisionRequest,
  type FrontChannelResult,
  type LoginRequest,
  type ResumeRequest,
  Subjects,
} from '#lib/contracts';
import { FrontChannelHandler } from './front-channel.handler.js';

@Controller()
export class FrontChannelNatsController {
  constructor(private readonly handler: FrontChannelHandler) {}

  @MessagePattern(Subjects.consent.authorize)
  authorize(@Payload() request: AuthorizeRequest): Promise<FrontChannelResult> {
    return this.handler.authorize(request);
  }

  @MessagePattern(Subjects.consent.login)
  login(@Payload() request: LoginRequest): Promise<FrontChannelResult> {
    return this.handler.login(request);
  }

  @MessagePattern(Subjects.consent.resume)
  resume(@Payload() request: ResumeRequest): Promise<FrontChannelResult> {
    return this.handler.resume(request);
  }

  @MessagePattern(Subjects.consent.decide)
  decide(@Payload() request: ConsentDecisionRequest): Promise<FrontChannelResult> {
    return this.handler.decide(request);
  }

  @MessagePattern(Subjects.consent.account)
  account(@Payload() request: AccountRequest): Promise<FrontChannelResult> {
    return this.handler.account(request);
  }

  @MessagePattern(Subjects.consent.accountRevoke)
  accountRevoke(@Payload() request: AccountRevokeRequest): Promise<FrontChannelResult> {
    return this.handler.accountRevoke(request);
  }
}
