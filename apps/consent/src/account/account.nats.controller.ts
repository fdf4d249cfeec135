import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  type AccountRequest,
  type AccountRevokeRequest,
  type FrontChannelResult,
  Subjects,
} from '#lib/contracts';
import { AccountHandler } from './account.handler.js';

/** GET /account and its consent revocation form, as the gateway forwards them. */
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
}
