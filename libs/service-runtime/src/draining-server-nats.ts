import { Logger } from '@nestjs/common';
import { ServerNats } from '@nestjs/microservices';
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import { inFlight } from './in-flight.js';
import { publishSoon } from './publish-batch.js';
import { stopTracing } from './tracing.js';

type Packet = { err?: unknown; isDisposed?: boolean };

/**
 * NATS server transport with a graceful close (SIGTERM, issue 8). A request counts as in flight
 * from the moment its message is dispatched to this process until its last reply packet is
 * published. On close the service's subscriptions are drained first (the server stops routing new
 * requests to this replica; those already delivered are still handled), then the close waits until
 * nothing is in flight (at most `shutdownTimeoutMs`), and only then drains and closes the
 * connection. Nest closes the database and the other connections after this returns.
 */
export class DrainingServerNats extends ServerNats {
  private readonly shutdownLogger = new Logger('Shutdown');
  private readonly pending = new WeakMap<Msg, () => void>();

  constructor(
    options: ConstructorParameters<typeof ServerNats>[0],
    private readonly shutdownTimeoutMs: number,
  ) {
    super(options);
  }

  override async handleMessage(channel: string, natsMsg: Msg): Promise<unknown> {
    let ended = false;
    const end = () => {
      if (ended) return;
      ended = true;
      inFlight.end();
    };
    inFlight.begin();
    this.pending.set(natsMsg, end);
    try {
      const result = await super.handleMessage(channel, natsMsg);
      if (!natsMsg.reply) end();
      return result;
    } catch (err) {
      end();
      throw err;
    }
  }

  // The channel is a subscribed subject, already a route: no JSON.parse attempt (and the exception
  // it throws for a subject) per message.
  override getHandlerByPattern(pattern: string) {
    return this.messageHandlers.get(pattern) ?? super.getHandlerByPattern(pattern);
  }

  override getPublisher(natsMsg: Msg, id: string, ctx: Parameters<ServerNats['getPublisher']>[2]) {
    const publish = super.getPublisher(natsMsg, id, ctx);
    const end = this.pending.get(natsMsg);
    return (packet: Packet) => {
      // The last packet of a reply is marked isDisposed; an error (or "no handler") is final too.
      const last = packet.isDisposed || packet.err !== undefined;
      publishSoon(() => {
        try {
          publish(packet as never);
        } catch (err) {
          this.logger.error(err);
        } finally {
          if (last) end?.();
        }
      });
    };
  }

  override async close(): Promise<void> {
    const self = this as unknown as { natsClient: NatsConnection | null; subscriptions: Subscription[] };
    const nc = self.natsClient;
    if (!nc) return super.close();
    inFlight.draining = true;
    this.shutdownLogger.log({ msg: 'draining NATS subscriptions', inFlight: inFlight.size });
    await Promise.all(self.subscriptions.map((s) => s.drain().catch(() => undefined)));
    const idle = await inFlight.idle(this.shutdownTimeoutMs);
    if (!idle) {
      this.shutdownLogger.warn({
        msg: 'shutdown timeout: requests still in flight',
        inFlight: inFlight.size,
      });
    }
    await nc.drain().catch(() => undefined);
    self.subscriptions = [];
    await super.close();
    await stopTracing();
  }
}
