import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { type RegisterClientRequest, Subjects } from '#lib/contracts';
import { RegisterClientHandler } from './register-client.handler.js';

@Controller()
export class RegisterClientNatsController {
  constructor(private readonly handler: RegisterClientHandler) {}

  @MessagePattern(Subjects.client.register)
  register(@Payload() request: RegisterClientRequest) {
    return this.handler.handle(request);
  }
}
