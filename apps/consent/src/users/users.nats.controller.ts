import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  type CreateUserRequest,
  type ListConsentsResponse,
  type ListUsersRequest,
  type ListUsersResponse,
  type RequestContext,
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
import { AdminGate } from '#lib/service-runtime';
import { UsersService } from './users.service.js';

/** The audit metadata of an admitted command: the verified actor, never one the message names. */
const by = (admitted: { actor: string; context: RequestContext }) => ({
  actor: admitted.actor,
  correlationId: admitted.context.correlationId,
  ...(admitted.context.callerRequestId ? { callerRequestId: admitted.context.callerRequestId } : {}),
});
const ref = (r: UserRefRequest) => ({
  ...(typeof r.sub === 'string' ? { sub: r.sub } : {}),
  ...(typeof r.username === 'string' ? { username: r.username } : {}),
});

/** Resource owners for the CLI and the admin API (each command admitted first), and resource servers. */
@Controller()
export class UsersNatsController {
  constructor(
    private readonly users: UsersService,
    private readonly gate: AdminGate,
  ) {}

  @MessagePattern(Subjects.consent.admin.createUser)
  async create(@Payload() r: CreateUserRequest): Promise<UserView> {
    const admitted = await this.gate.admit(r);
    return this.users.create(
      {
        username: r.username,
        password: r.password,
        ...(r.email !== undefined ? { email: r.email } : {}),
        ...(r.name !== undefined ? { name: r.name } : {}),
      },
      by(admitted),
    );
  }

  @MessagePattern(Subjects.consent.admin.listUsers)
  async list(@Payload() r: ListUsersRequest): Promise<ListUsersResponse> {
    await this.gate.admit(r);
    return this.users.list(typeof r.after === 'string' ? r.after : undefined, r.limit);
  }

  @MessagePattern(Subjects.consent.admin.getUser)
  async get(@Payload() r: UserRefRequest): Promise<UserView> {
    await this.gate.admit(r);
    return this.users.get(ref(r));
  }

  @MessagePattern(Subjects.consent.admin.disableUser)
  async disable(@Payload() r: UserRefRequest): Promise<UserView> {
    return this.users.change(ref(r), 'disable', by(await this.gate.admit(r)));
  }

  @MessagePattern(Subjects.consent.admin.enableUser)
  async enable(@Payload() r: UserRefRequest): Promise<UserView> {
    return this.users.change(ref(r), 'enable', by(await this.gate.admit(r)));
  }

  @MessagePattern(Subjects.consent.admin.setPassword)
  async setPassword(@Payload() r: SetPasswordRequest): Promise<UserView> {
    return this.users.change(ref(r), { password: r.password }, by(await this.gate.admit(r)));
  }

  @MessagePattern(Subjects.consent.admin.listConsents)
  async consents(@Payload() r: UserRefRequest): Promise<ListConsentsResponse> {
    await this.gate.admit(r);
    const user = await this.users.get(ref(r));
    return { sub: user.sub, consents: await this.users.consentsOf(user.sub) };
  }

  @MessagePattern(Subjects.consent.admin.revokeConsent)
  async revokeConsent(@Payload() r: RevokeConsentRequest): Promise<RevokeConsentResponse> {
    const admitted = await this.gate.admit(r);
    if (typeof r.clientId !== 'string' || r.clientId === '') throw invalidRequest('clientId is required');
    const user = await this.users.get(ref(r));
    return this.users.revokeConsent(user.sub, r.clientId, by(admitted));
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
