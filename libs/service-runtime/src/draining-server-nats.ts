import { Logger } from '@nestjs/common';
import { ServerNats } from '@nestjs/microservices';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { inFlight } from './in-flight.js';
import { stopTracing } from './tracing.js';

/**
 * NATS server transport with a graceful close (SIGTERM, issue 8): the service's subscriptions are
 * drained first (the server stops routing new requests to this replica; those already delivered are
 * still handled), then the close waits until every accepted request has been answered (at most
 * `shutdownTimeoutMs`), and only then drains and closes the connection. Nest closes the database
 * and the other connections after this returns.
 */
export class DrainingServerNats extends ServerNats {
  private readonly shutdownLogger = new Logger('Shutdown');

  constructor(
    options: ConstructorParameters<typeof ServerNats>[0],
    private readonly shutdownTimeoutMs: number,
  ) {
    super(options);
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
    // Replies are published on the next tick after a handler settles.
    await new Promise((r) => setImmediate(r));
    await nc.drain().catch(() => undefined);
    self.subscriptions = [];
    await super.close();
    await stopTracing();
  }
}
