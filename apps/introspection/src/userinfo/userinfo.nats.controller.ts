import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { Subjects, type UserInfoRequest, type UserInfoResponse } from '#lib/contracts';
import { UserInfoHandler } from './userinfo.handler.js';

/** OpenID Connect Core §5.3, asked by the gateway's /userinfo. */
@Controller()
export class UserInfoNatsController {
  constructor(private readonly handler: UserInfoHandler) {}

  @MessagePattern(Subjects.introspection.userinfo)
  userinfo(@Payload() request: UserInfoRequest): Promise<UserInfoResponse> {
    return this.handler.handle(request);
  }
}
