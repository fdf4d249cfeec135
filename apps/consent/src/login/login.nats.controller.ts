import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { type FrontChannelResult, type LoginRequest, Subjects } from '#lib/contracts';
import { LoginHandler } from './login.handler.js';

/** POST /login, as the gateway forwards it. */
@Controller()
export class LoginNatsController {
  constructor(private readonly handler: LoginHandler) {}

  @MessagePattern(Subjects.consent.login)
  login(@Payload() request: LoginRequest): Promise<FrontChannelResult> {
    return this.handler.handle(request);
  }
}
