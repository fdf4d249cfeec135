import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { type RotateClientSecretRequest, Subjects } from '#lib/contracts';
import { AdminGate } from '#lib/service-runtime';
import { RotateClientSecretHandler } from './rotate-client-secret.handler.js';

@Controller()
export class RotateClientSecretNatsController {
  constructor(
    private readonly handler: RotateClientSecretHandler,
    private readonly gate: AdminGate,
  ) {}

  @MessagePattern(Subjects.client.admin.rotateSecret)
  async rotate(@Payload() request: RotateClientSecretRequest) {
    return this.handler.handle(request, await this.gate.admit(request));
  }
}
