import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { Subjects, type UserRefRequest, type UserView } from '#lib/contracts';
import { AdminGate } from '#lib/service-runtime';
import { by, ref } from '../users/actor.js';
import { EraseUserHandler } from './erase-user.handler.js';

/** An administrator erases a resource owner (GDPR Art. 17), admitted first. */
@Controller()
export class EraseUserNatsController {
  constructor(
    private readonly handler: EraseUserHandler,
    private readonly gate: AdminGate,
  ) {}

  @MessagePattern(Subjects.consent.admin.eraseUser)
  async erase(@Payload() r: UserRefRequest): Promise<UserView> {
    return this.handler.handle(ref(r), by(await this.gate.admit(r)));
  }
}
