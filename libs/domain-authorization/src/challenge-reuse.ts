/**
 * RFC 9700 §2.1.1: a client that sends the same code_challenge in many
 * authorization requests defeats PKCE (the verifier is no longer fresh per request), and servers
 * are encouraged to detect it. This tracker remembers recently seen challenges, bounded in memory,
 * and tells the caller when one comes back within the window; the caller logs it. Time comes in.
 */
export interface ChallengeSighting {
  /** True when the challenge was seen before within the window. */
  reused: boolean;
  /** How many requests carried it within the window, this one included. */
  count: number;
  /** The clients that sent it within the window. */
  clientIds: string[];
}

interface Seen {
  count: number;
  firstSeenMs: number;
  clientIds: string[];
}

export class ChallengeReuseTracker {
  private readonly seen = new Map<string, Seen>();

  constructor(
    private readonly windowMs = 3_600_000,
    private readonly capacity = 100_000,
  ) {}

  observe(challenge: string, clientId: string, nowMs: number): ChallengeSighting {
    const previous = this.seen.get(challenge);
    if (previous !== undefined && nowMs - previous.firstSeenMs < this.windowMs) {
      // Re-inserting keeps the Map's insertion order an LRU order.
      this.seen.delete(challenge);
      const entry: Seen = {
        count: previous.count + 1,
        firstSeenMs: previous.firstSeenMs,
        clientIds: previous.clientIds.includes(clientId)
          ? previous.clientIds
          : [...previous.clientIds, clientId].slice(0, 10),
      };
      this.seen.set(challenge, entry);
      return { reused: true, count: entry.count, clientIds: entry.clientIds };
    }
    this.seen.delete(challenge);
    this.seen.set(challenge, { count: 1, firstSeenMs: nowMs, clientIds: [clientId] });
    while (this.seen.size > this.capacity) this.seen.delete(this.seen.keys().next().value!);
    return { reused: false, count: 1, clientIds: [clientId] };
  }
}
