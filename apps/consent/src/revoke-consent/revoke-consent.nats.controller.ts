import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { type RevokeConsentRequest, type RevokeConsentResponse, Subjects } from '#lib/contracts';
import { invalidRequest } from '#lib/oauth-errors';
import { AdminGate } from '#lib/service-runtime';
import { by, ref } from '../users/actor.js';
import { UserRepository } from '../users/user.repository.js';
import { RevokeConsentHandler } from './revoke-consent.handler.js';

/** An administrator revokes a user's consent to a client (the command admitted first). */
@Controller()
export class RevokeConsentNatsController {
  constructor(
    private readonly handler: RevokeConsentHandler,
    private readonly users: UserRepository,
    private readonly gate: AdminGate,
  ) {}

  @MessagePattern(Subjects.consent.admin.revokeConsent)
  async revokeConsent(@Payload() r: RevokeConsentRequest): Promise<RevokeConsentResponse> {
    const admitted = await this.gate.admit(r);
    if (typeof r.clientId !== 'string' || r.clientId === '') throw invalidRequest('clientId is required');
    const { state } = await this.users.resolve(ref(r));
    return this.handler.handle(state.sub, r.clientId, by(admitted));
  }
}
