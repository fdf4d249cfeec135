/**
 * NATS messages published during one turn of the event loop are handed to their connection
 * together at the end of the turn (setImmediate): nats.js then sends what is pending in one socket
 * write rather than one write per message. Each publish reports its own failure; one that throws
 * anyway does not hold back the others.
 */
let queue: (() => void)[] = [];
let scheduled = false;

export function publishSoon(publish: () => void): void {
  queue.push(publish);
  if (scheduled) return;
  scheduled = true;
  setImmediate(publishQueued);
}

function publishQueued(): void {
  const due = queue;
  queue = [];
  scheduled = false;
  for (const publish of due) {
    try {
      publish();
    } catch (err) {
      process.emitWarning(`NATS publish failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}
