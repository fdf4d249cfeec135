import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { type CreateUserRequest, Subjects, type UserView } from '#lib/contracts';
import { AdminGate } from '#lib/service-runtime';
import { by } from '../users/actor.js';
import { CreateUserHandler } from './create-user.handler.js';

/** An administrator creates a resource owner (the command admitted first). */
@Controller()
export class CreateUserNatsController {
  constructor(
    private readonly handler: CreateUserHandler,
    private readonly gate: AdminGate,
  ) {}

  @MessagePattern(Subjects.consent.admin.createUser)
  async create(@Payload() r: CreateUserRequest): Promise<UserView> {
    const admitted = await this.gate.admit(r);
    return this.handler.handle(
      {
        username: r.username,
        password: r.password,
        ...(r.email !== undefined ? { email: r.email } : {}),
        ...(r.name !== undefined ? { name: r.name } : {}),
      },
      by(admitted),
    );
  }
}
