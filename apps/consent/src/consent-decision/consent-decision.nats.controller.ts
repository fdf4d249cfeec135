import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { type ConsentDecisionRequest, type FrontChannelResult, Subjects } from '#lib/contracts';
import { ConsentDecisionHandler } from './consent-decision.handler.js';

/** POST /consent, as the gateway forwards it. */
@Controller()
export class ConsentDecisionNatsController {
  constructor(private readonly handler: ConsentDecisionHandler) {}

  @MessagePattern(Subjects.consent.decide)
  decide(@Payload() request: ConsentDecisionRequest): Promise<FrontChannelResult> {
    return this.handler.handle(request);
  }
}
