import { Controller, Inject } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import type { AuthorizationCodeConfig } from '#lib/config';
import {
  type IssueAuthorizationCodeRequest,
  type IssueAuthorizationCodeResponse,
  type RevokeUserGrantsRequest,
  type RevokeUserGrantsResponse,
  Subjects,
} from '#lib/contracts';
import { issueAuthorizationCode, revokeUserGrants } from '#lib/domain-token';
import type { EventStore } from '#lib/event-store';
import { AUTHORIZATION_CODE_CONFIG, EVENT_STORE } from '#lib/service-runtime';

/**
 * The grant commands of the consent service (libs/contracts bus-permissions.ts: no one else may
 * publish them): the code a user approved, and a user's grants revoked. Decided and appended by
 * libs/domain-token grant-commands.ts.
 */
@Controller()
export class GrantCommandsNatsController {
  constructor(
    @Inject(EVENT_STORE) private readonly store: EventStore,
    @Inject(AUTHORIZATION_CODE_CONFIG) private readonly config: AuthorizationCodeConfig,
  ) {}

  @MessagePattern(Subjects.token.issueAuthorizationCode)
  issueAuthorizationCode(
    @Payload() request: IssueAuthorizationCodeRequest,
  ): Promise<IssueAuthorizationCodeResponse> {
    return issueAuthorizationCode(this.store, request, {
      ttlSeconds: this.config.authorizationCodeTtlSeconds,
      now: new Date(),
    });
  }

  @MessagePattern(Subjects.token.revokeGrants)
  revokeGrants(@Payload() request: RevokeUserGrantsRequest): Promise<RevokeUserGrantsResponse> {
    return revokeUserGrants(this.store, request, () => new Date());
  }
}
