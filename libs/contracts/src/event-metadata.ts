import type { EventMetadata } from '#lib/event-store';
import type { RequestContext } from './messages.js';

/**
 * The metadata of an event a command causes: the server's correlation id, the caller's request id
 * when it sent one (untrusted: see RequestContext), and the actor the owning service verified.
 */
export function eventMetadata(
  context: Partial<Pick<RequestContext, 'correlationId' | 'callerRequestId'>> | undefined,
  actor: string,
): EventMetadata {
  return {
    ...(context?.correlationId ? { correlationId: context.correlationId } : {}),
    ...(context?.callerRequestId ? { callerRequestId: context.callerRequestId } : {}),
    actor,
  };
}
