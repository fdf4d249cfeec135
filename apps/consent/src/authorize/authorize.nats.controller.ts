import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { type AuthorizeRequest, type FrontChannelResult, type ResumeRequest, Subjects } from '#lib/contracts';
import { AuthorizeHandler } from './authorize.handler.js';

/** GET/POST /authorize and its resumption after the login, as the gateway forwards them. */
@Controller()
export class AuthorizeNatsController {
  constructor(private readonly handler: AuthorizeHandler) {}

  @MessagePattern(Subjects.consent.authorize)
  authorize(@Payload() request: AuthorizeRequest): Promise<FrontChannelResult> {
    return this.handler.authorize(request);
  }

  @MessagePattern(Subjects.consent.resume)
  resume(@Payload() request: ResumeRequest): Promise<FrontChannelResult> {
    return this.handler.resume(request);
  }
}
