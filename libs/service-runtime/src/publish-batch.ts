/**
 * NATS messages published during one turn of the event loop are handed to their connection
 * together at the end of the turn (setImmediate): nats.js then sends what is pending in one socket
 * write rather than one write per message. Each publish reports its own failure.
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
  for (const publish of due) publish();
}
