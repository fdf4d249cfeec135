import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { type FrontChannelResult, type LogoutRequest, Subjects } from '#lib/contracts';
import { LogoutHandler } from './logout.handler.js';

/** The end-session endpoint and its confirmation form, as the gateway forwards them. */
@Controller()
export class LogoutNatsController {
  constructor(private readonly handler: LogoutHandler) {}

  @MessagePattern(Subjects.consent.logout)
  logout(@Payload() request: LogoutRequest): Promise<FrontChannelResult> {
    return this.handler.show(request);
  }

  @MessagePattern(Subjects.consent.logoutConfirm)
  confirm(@Payload() request: LogoutRequest): Promise<FrontChannelResult> {
    return this.handler.confirm(request);
  }
}
