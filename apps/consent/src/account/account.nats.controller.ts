import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  type AccountEndSessionRequest,
  type AccountRequest,
  type AccountRevokeRequest,
  type FrontChannelResult,
  Subjects,
} from '#lib/contracts';
import { AccountHandler } from './account.handler.js';

/** GET /account, its consent revocation and session sign-out forms, as the gateway forwards them. */
@Controller()
export class AccountNatsController {
  constructor(private readonly handler: AccountHandler) {}

  @MessagePattern(Subjects.consent.account)
  account(@Payload() request: AccountRequest): Promise<FrontChannelResult> {
    return this.handler.show(request);
  }

  @MessagePattern(Subjects.consent.accountRevoke)
  accountRevoke(@Payload() request: AccountRevokeRequest): Promise<FrontChannelResult> {
    return this.handler.revoke(request);
  }

  @MessagePattern(Subjects.consent.accountEndSession)
  accountEndSession(@Payload() request: AccountEndSessionRequest): Promise<FrontChannelResult> {
    return this.handler.endSession(request);
  }
}
