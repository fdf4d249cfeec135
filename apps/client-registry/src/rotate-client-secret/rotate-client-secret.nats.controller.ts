import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { type RotateClientSecretRequest, Subjects } from '#lib/contracts';
import { RotateClientSecretHandler } from './rotate-client-secret.handler.js';

@Controller()
export class RotateClientSecretNatsController {
  constructor(private readonly handler: RotateClientSecretHandler) {}

  @MessagePattern(Subjects.client.rotateSecret)
  rotate(@Payload() request: RotateClientSecretRequest) {
    return this.handler.handle(request);
  }
}
