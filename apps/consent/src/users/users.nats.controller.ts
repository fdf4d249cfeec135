import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  type CreateUserRequest,
  type ListConsentsResponse,
  type ListUsersRequest,
  type ListUsersResponse,
  type RevokeConsentRequest,
  type RevokeConsentResponse,
  type SetPasswordRequest,
  Subjects,
  type UserProfile,
  type UserProfileRequest,
  type UserRefRequest,
  type UserView,
} from '#lib/contracts';
import { invalidRequest } from '#lib/oauth-errors';
import { UsersService } from './users.service.js';

const by = (r: { actor: string; context?: { correlationId?: string } }) => ({
  actor: typeof r.actor === 'string' ? r.actor : 'unknown',
  ...(r.context?.correlationId ? { correlationId: r.context.correlationId } : {}),
});
const ref = (r: UserRefRequest) => ({
  ...(typeof r.sub === 'string' ? { sub: r.sub } : {}),
  ...(typeof r.username === 'string' ? { username: r.username } : {}),
});

/** Resource owners for the CLI, the admin API and resource servers. */
@Controller()
export class UsersNatsController {
  constructor(private readonly users: UsersService) {}

  @MessagePattern(Subjects.consent.createUser)
  create(@Payload() r: CreateUserRequest): Promise<UserView> {
    return this.users.create(
      {
        username: r.username,
        password: r.password,
        ...(r.email !== undefined ? { email: r.email } : {}),
        ...(r.name !== undefined ? { name: r.name } : {}),
      },
      by(r),
    );
  }

  @MessagePattern(Subjects.consent.listUsers)
  list(@Payload() r: ListUsersRequest): Promise<ListUsersResponse> {
    return this.users.list(typeof r.after === 'string' ? r.after : undefined, r.limit);
  }

  @MessagePattern(Subjects.consent.getUser)
  get(@Payload() r: UserRefRequest): Promise<UserView> {
    return this.users.get(ref(r));
  }

  @MessagePattern(Subjects.consent.disableUser)
  disable(@Payload() r: UserRefRequest): Promise<UserView> {
    return this.users.change(ref(r), 'disable', by(r));
  }

  @MessagePattern(Subjects.consent.enableUser)
  enable(@Payload() r: UserRefRequest): Promise<UserView> {
    return this.users.change(ref(r), 'enable', by(r));
  }

  @MessagePattern(Subjects.consent.setPassword)
  setPassword(@Payload() r: SetPasswordRequest): Promise<UserView> {
    return this.users.change(ref(r), { password: r.password }, by(r));
  }

  @MessagePattern(Subjects.consent.listConsents)
  async consents(@Payload() r: UserRefRequest): Promise<ListConsentsResponse> {
    const user = await this.users.get(ref(r));
    return { sub: user.sub, consents: await this.users.consentsOf(user.sub) };
  }

  @MessagePattern(Subjects.consent.revokeConsent)
  async revokeConsent(@Payload() r: RevokeConsentRequest): Promise<RevokeConsentResponse> {
    if (typeof r.clientId !== 'string' || r.clientId === '') throw invalidRequest('clientId is required');
    const user = await this.users.get(ref(r));
    return this.users.revokeConsent(user.sub, r.clientId, by(r));
  }

  /** A resource server learns a user's username, email and name (never the password hash). */
  @MessagePattern(Subjects.consent.userProfile)
  async profile(@Payload() r: UserProfileRequest): Promise<UserProfile> {
    const user = await this.users.get({ sub: r.sub });
    return {
      sub: user.sub,
      username: user.username,
      ...(user.email !== undefined ? { email: user.email } : {}),
      ...(user.name !== undefined ? { name: user.name } : {}),
      status: user.status,
    };
  }
}
