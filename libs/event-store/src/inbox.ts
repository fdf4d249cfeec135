import { createInbox, type NatsConnection } from '@nats-io/transport-node';

/**
 * A new reply inbox under the connection's own `inboxPrefix`: with per-user permissions a
 * connection may read replies on its own inbox only (libs/contracts bus-permissions.ts).
 */
export function createInboxOf(nc: NatsConnection): string {
  return createInbox((nc as unknown as { options?: { inboxPrefix?: string } }).options?.inboxPrefix);
}
