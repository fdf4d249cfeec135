import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { type IssueLogoutTokenRequest, type IssueLogoutTokenResponse, Subjects } from '#lib/contracts';
import { LogoutTokenHandler } from './logout-token.handler.js';

/** The consent service's logout tokens (libs/contracts bus-permissions.ts: no one else may ask). */
@Controller()
export class LogoutTokenNatsController {
  constructor(private readonly handler: LogoutTokenHandler) {}

  @MessagePattern(Subjects.token.issueLogoutToken)
  issue(@Payload() request: IssueLogoutTokenRequest): Promise<IssueLogoutTokenResponse> {
    return this.handler.issue(request);
  }
}
