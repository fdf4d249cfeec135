import type { RequestContext, UserRefRequest } from '#lib/contracts';
import type { UserRef } from './user.repository.js';

/** Who asked for a change: recorded on every event it causes. */
export interface Actor {
  actor: string;
  correlationId?: string;
  /** The caller's own request id (untrusted, libs/contracts RequestContext). */
  callerRequestId?: string;
}

/** The audit metadata of an admitted command: the verified actor, never one the message names. */
export const by = (admitted: { actor: string; context: RequestContext }): Actor => ({
  actor: admitted.actor,
  correlationId: admitted.context.correlationId,
  ...(admitted.context.callerRequestId ? { callerRequestId: admitted.context.callerRequestId } : {}),
});

/** The user a message names, keeping only string fields. */
export const ref = (r: UserRefRequest): UserRef => ({
  ...(typeof r.sub === 'string' ? { sub: r.sub } : {}),
  ...(typeof r.username === 'string' ? { username: r.username } : {}),
});
