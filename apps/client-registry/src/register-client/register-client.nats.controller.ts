import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { type RegisterClientRequest, Subjects } from '#lib/contracts';
import { AdminGate } from '#lib/service-runtime';
import { RegisterClientHandler } from './register-client.handler.js';

@Controller()
export class RegisterClientNatsController {
  constructor(
    private readonly handler: RegisterClientHandler,
    private readonly gate: AdminGate,
  ) {}

  @MessagePattern(Subjects.client.admin.register)
  async register(@Payload() request: RegisterClientRequest) {
    return this.handler.handle(request, await this.gate.admit(request));
  }
}
