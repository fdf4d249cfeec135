import { type PubAck } from '@nats-io/jetstream';
import { type Msg, type MsgHdrs, type NatsConnection } from '@nats-io/transport-node';
import { createInboxOf } from './inbox.js';

/** How long a batch waits for its PubAcks (JetStream's own default for a publish). */
const PUBLISH_TIMEOUT_MS = 5000;

export interface OutgoingMessage {
  subject: string;
  body: string;
  headers: MsgHdrs;
}

/**
 * Publishes one message per item at once, and collects the PubAcks on one reply inbox with one
 * timer (rather than a request, a timer and an error context per message). Each message is built
 * just before it is sent. Resolves to each message's PubAck, or the error JetStream answered, or a
 * timeout; an error while sending is the answer of every message not answered yet.
 */
export function publishTogether<T>(
  nc: NatsConnection,
  items: readonly T[],
  messageOf: (item: T, index: number) => OutgoingMessage,
): Promise<(PubAck | Error)[]> {
  const inbox = createInboxOf(nc);
  const acks: (PubAck | Error | undefined)[] = new Array(items.length);
  let awaited = items.length;
  return new Promise((resolve) => {
    const sub = nc.subscribe(`${inbox}.*`, {
      callback: (err, msg) => {
        if (err) return finish();
        const index = Number(msg.subject.slice(inbox.length + 1));
        if (!(index >= 0 && index < items.length) || acks[index] !== undefined) return;
        acks[index] = pubAckOf(msg);
        if (--awaited === 0) finish();
      },
    });
    const timer = setTimeout(finish, PUBLISH_TIMEOUT_MS);
    let finished = false;
    function finish() {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      sub.unsubscribe();
      resolve([...acks].map((ack) => ack ?? new Error(`no PubAck in ${PUBLISH_TIMEOUT_MS} ms`)));
    }
    try {
      items.forEach((item, i) => {
        const { subject, body, headers } = messageOf(item, i);
        nc.publish(subject, body, { reply: `${inbox}.${i}`, headers });
      });
    } catch (err) {
      for (let i = 0; i < acks.length; i++) acks[i] ??= err as Error;
      finish();
    }
  });
}

/** The PubAck of a message, or the error JetStream (or a server without a stream listening) answered. */
function pubAckOf(msg: Msg): PubAck | Error {
  if (msg.data.length === 0) {
    return new Error(`no PubAck: ${msg.headers?.code ?? ''} ${msg.headers?.description ?? 'empty reply'}`);
  }
  const reply = msg.json<PubAck & { error?: { code: number; err_code?: number; description: string } }>();
  if (reply.error)
    return new Error(`${reply.error.description} (${reply.error.err_code ?? reply.error.code})`);
  return { ...reply, duplicate: reply.duplicate ?? false };
}
