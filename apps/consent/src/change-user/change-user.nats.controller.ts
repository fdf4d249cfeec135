import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { type SetPasswordRequest, Subjects, type UserRefRequest, type UserView } from '#lib/contracts';
import { AdminGate } from '#lib/service-runtime';
import { by, ref } from '../users/actor.js';
import { ChangeUserHandler } from './change-user.handler.js';

/** An administrator disables, enables or sets the password of a resource owner (each command admitted first). */
@Controller()
export class ChangeUserNatsController {
  constructor(
    private readonly handler: ChangeUserHandler,
    private readonly gate: AdminGate,
  ) {}

  @MessagePattern(Subjects.consent.admin.disableUser)
  async disable(@Payload() r: UserRefRequest): Promise<UserView> {
    return this.handler.handle(ref(r), 'disable', by(await this.gate.admit(r)));
  }

  @MessagePattern(Subjects.consent.admin.enableUser)
  async enable(@Payload() r: UserRefRequest): Promise<UserView> {
    return this.handler.handle(ref(r), 'enable', by(await this.gate.admit(r)));
  }

  @MessagePattern(Subjects.consent.admin.setPassword)
  async setPassword(@Payload() r: SetPasswordRequest): Promise<UserView> {
    return this.handler.handle(ref(r), { password: r.password }, by(await this.gate.admit(r)));
  }
}
