import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import {
  type EndSessionRequest,
  type EndSessionResponse,
  type ListSessionsResponse,
  Subjects,
  type UserRefRequest,
} from '#lib/contracts';
import { SID } from '#lib/domain-consent';
import { invalidRequest } from '#lib/oauth-errors';
import { AdminGate } from '#lib/service-runtime';
import { ref } from '../users/actor.js';
import { UserRepository } from '../users/user.repository.js';
import { SessionRepository } from './session-repository.js';

/**
 * An administrator lists a user's browser sessions and ends one (each command admitted first: the
 * actor recorded is the administrator the admin token names, never a field of the message).
 */
@Controller()
export class SessionsNatsController {
  constructor(
    private readonly sessions: SessionRepository,
    private readonly users: UserRepository,
    private readonly gate: AdminGate,
  ) {}

  @MessagePattern(Subjects.consent.admin.listSessions)
  async list(@Payload() r: UserRefRequest): Promise<ListSessionsResponse> {
    await this.gate.admit(r);
    const { state } = await this.users.resolve(ref(r));
    return { sub: state.sub, sessions: await this.sessions.sessionsOf(state.sub) };
  }

  @MessagePattern(Subjects.consent.admin.endSession)
  async end(@Payload() r: EndSessionRequest): Promise<EndSessionResponse> {
    const admitted = await this.gate.admit(r);
    if (typeof r.sid !== 'string' || !SID.test(r.sid)) throw invalidRequest('malformed sid');
    const { state } = await this.users.resolve(ref(r));
    const ended = await this.sessions.endOfUser(state.sub, r.sid, 'admin', admitted);
    return { ended };
  }
}
