import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { type AuthenticateClientRequest, Subjects } from '#lib/contracts';
import { AuthenticateClientHandler } from './authenticate-client.handler.js';

@Controller()
export class AuthenticateClientNatsController {
  constructor(private readonly handler: AuthenticateClientHandler) {}

  @MessagePattern(Subjects.client.authenticate)
  authenticate(@Payload() request: AuthenticateClientRequest) {
    return this.handler.handle(request);
  }
}
