import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  type ListConsentsResponse,
  type ListUsersRequest,
  type ListUsersResponse,
  Subjects,
  type UserProfile,
  type UserProfileRequest,
  type UserRefRequest,
  type UserView,
} from '#lib/contracts';
import { invalidRequest } from '#lib/oauth-errors';
import { AdminGate } from '#lib/service-runtime';
import { ref } from '../users/actor.js';
import { UserGrants } from '../users/user-grants.js';
import { UserProjectionsService } from '../users/user-projections.service.js';
import { UserRepository } from '../users/user.repository.js';

/**
 * Reading resource owners: for the CLI and the admin API (each query admitted first), and a user's
 * profile for resource servers.
 */
@Controller()
export class UserQueriesNatsController {
  constructor(
    private readonly users: UserRepository,
    private readonly grants: UserGrants,
    private readonly projections: UserProjectionsService,
    private readonly gate: AdminGate,
  ) {}

  @MessagePattern(Subjects.consent.admin.listUsers)
  async list(@Payload() r: ListUsersRequest): Promise<ListUsersResponse> {
    await this.gate.admit(r);
    const limit = r.limit;
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw invalidRequest('limit must be 1 to 100');
    const page = await this.projections.usersPage(typeof r.after === 'string' ? r.after : undefined, limit);
    const users = page.map((p) => p.row);
    return page.length === limit ? { users, next: page[page.length - 1]!.key } : { users };
  }

  @MessagePattern(Subjects.consent.admin.getUser)
  async get(@Payload() r: UserRefRequest): Promise<UserView> {
    await this.gate.admit(r);
    return this.users.view(ref(r));
  }

  @MessagePattern(Subjects.consent.admin.listConsents)
  async consents(@Payload() r: UserRefRequest): Promise<ListConsentsResponse> {
    await this.gate.admit(r);
    const { state } = await this.users.resolve(ref(r));
    return { sub: state.sub, consents: await this.grants.consentsOf(state.sub) };
  }

  /** A resource server learns a user's username, email and name (never the password hash). */
  @MessagePattern(Subjects.consent.userProfile)
  async profile(@Payload() r: UserProfileRequest): Promise<UserProfile> {
    const { state } = await this.users.resolve({ sub: r.sub });
    return {
      sub: state.sub,
      username: state.username,
      ...(state.email !== undefined ? { email: state.email } : {}),
      ...(state.name !== undefined ? { name: state.name } : {}),
      status: state.status,
    };
  }
}
