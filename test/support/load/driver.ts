import { Agent, request as httpRequest } from 'node:http';

/**
 * A steady load of requests against a running system, made of pluggable workloads (issue 10).
 * Each workload sends one request per step and keeps its own books (what it was answered); the
 * driver runs a few workers that take turns over the enabled workloads, classifies every answer and
 * tags it with the phase (the fault being injected) it was sent in.
 *
 * Classification (the fault suite's contract):
 * - `ok`: 2xx;
 * - `failedFast`: 503 `temporarily_unavailable` with Retry-After, or a refused connection while the
 *   phase allows it (the gateway itself is down), within the time limit;
 * - everything else is a `violation`: a 500, a hang past the limit, a 4xx the workload did not
 *   expect, a 503 without the OAuth body.
 */

export type Answer =
  | { kind: 'http'; status: number; body: string; headers: Headers; ms: number }
  | { kind: 'refused'; message: string; ms: number }
  | { kind: 'hang'; ms: number };

export interface StepResult {
  answer: Answer;
  /** Set by the workload when a non-2xx answer is nonetheless right (e.g. an expected 4xx). */
  expected?: boolean;
  /** A broken invariant the workload saw in a successful answer (e.g. a revoked token active). */
  violation?: string;
}

export interface Workload {
  readonly name: string;
  /** Relative share of the steps (default 1). */
  readonly weight?: number;
  /** Prepares the workload (clients, seeded codes); called once, on a healthy system. */
  setup?(): Promise<void>;
  /** Called between phases, on a healthy system (e.g. to top up a pool of codes). */
  refill?(): Promise<void>;
  /** One request; null when there is nothing to do right now (e.g. no token to revoke yet). */
  step(send: Sender): Promise<StepResult | null>;
}

/** Sends one HTTP request with the driver's time limit; never throws. */
export type Sender = (path: string, init: RequestInit) => Promise<Answer>;

export interface Phase {
  name: string;
  /** A refused TCP connection is a fast failure, not a violation (the gateway is down). */
  allowRefused: boolean;
}

export interface Tally {
  sent: number;
  ok: number;
  failedFast: number;
  refused: number;
  expected4xx: number;
  violations: number;
}

const emptyTally = (): Tally => ({
  sent: 0,
  ok: 0,
  failedFast: 0,
  refused: 0,
  expected4xx: 0,
  violations: 0,
});

export interface DriverOptions {
  baseUrl: string;
  workloads: Workload[];
  /** Concurrent workers (default 4). */
  workers?: number;
  /** Pause of a worker between two requests, ms (default 20). */
  pauseMs?: number;
  /** An answer slower than this is a hang (a violation). */
  hangLimitMs: number;
}

export class LoadDriver {
  readonly byWorkload = new Map<string, Tally>();
  readonly byPhase = new Map<string, Tally>();
  readonly total: Tally = emptyTally();
  readonly violations: string[] = [];
  /** Slowest answer seen, ms. */
  slowestMs = 0;
  /** When each workload last sent a request, and last got a 2xx (epoch ms). */
  readonly lastSent = new Map<string, number>();
  readonly lastOk = new Map<string, number>();
  private phase: Phase = { name: 'baseline', allowRefused: false };
  private agent = new Agent({ keepAlive: true });
  private readonly retired: Agent[] = [];
  private running = false;
  private loops: Promise<void>[] = [];
  private turn = 0;
  private readonly schedule: Workload[];

  constructor(private readonly options: DriverOptions) {
    this.schedule = options.workloads.flatMap((w) => Array<Workload>(Math.max(1, w.weight ?? 1)).fill(w));
  }

  get workloadNames(): string[] {
    return this.options.workloads.map((w) => w.name);
  }

  setPhase(phase: Phase): void {
    this.phase = phase;
    // Requests in flight finish on the old agent; it is destroyed when the driver stops.
    this.retired.push(this.agent);
    this.agent = new Agent({ keepAlive: true });
  }

  /**
   * One HTTP request over node:http. Each phase has its own keep-alive agent, and the previous
   * phase's agent is retired: connections to a process that was killed are not reused (a client
   * that saw its server go away reconnects).
   */
  readonly send: Sender = (path, init) => {
    const started = Date.now();
    const url = new URL(`${this.options.baseUrl}${path}`);
    const body = typeof init.body === 'string' ? init.body : '';
    return new Promise<Answer>((settle) => {
      const resolve = (answer: Answer) => {
        clearTimeout(timer);
        settle(answer);
      };
      const timer = setTimeout(() => {
        req.destroy();
        resolve({ kind: 'hang', ms: Date.now() - started });
      }, this.options.hangLimitMs);
      const req = httpRequest(
        {
          host: url.hostname,
          port: url.port,
          path: url.pathname + url.search,
          method: init.method ?? 'GET',
          headers: { ...(init.headers as Record<string, string>), 'content-length': Buffer.byteLength(body) },
          agent: this.agent,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const headers = new Headers();
            for (const [k, v] of Object.entries(res.headers)) if (typeof v === 'string') headers.set(k, v);
            resolve({
              kind: 'http',
              status: res.statusCode ?? 0,
              body: Buffer.concat(chunks).toString('utf8'),
              headers,
              ms: Date.now() - started,
            });
          });
          res.on('error', (err) =>
            resolve({ kind: 'refused', message: err.message, ms: Date.now() - started }),
          );
        },
      );
      req.on('error', (err: NodeJS.ErrnoException) =>
        resolve({ kind: 'refused', message: err.code ?? err.message, ms: Date.now() - started }),
      );
      req.end(body);
    });
  };

  start(): void {
    if (this.running) return;
    this.running = true;
    const workers = this.options.workers ?? 4;
    const pause = this.options.pauseMs ?? 20;
    for (let i = 0; i < workers; i++) {
      this.loops.push(
        (async () => {
          while (this.running) {
            const workload = this.schedule[this.turn++ % this.schedule.length]!;
            const phase = this.phase;
            let result: StepResult | null;
            try {
              result = await workload.step(this.send);
            } catch (err) {
              result = null;
              this.violations.push(`${workload.name} threw during ${phase.name}: ${(err as Error).message}`);
            }
            if (result) this.record(workload.name, phase, result);
            await new Promise((r) => setTimeout(r, pause));
          }
        })(),
      );
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.all(this.loops);
    this.loops = [];
    for (const agent of [...this.retired, this.agent]) agent.destroy();
  }

  async refill(): Promise<void> {
    for (const w of this.options.workloads) await w.refill?.();
  }

  /**
   * Resolves with the ms it took until every workload that sent a request since `since` has also
   * been answered 2xx since then (at least one has); rejects after `timeoutMs`.
   */
  async waitRecovered(since: number, timeoutMs: number): Promise<number> {
    const deadline = since + timeoutMs;
    for (;;) {
      const active = this.workloadNames.filter((w) => (this.lastSent.get(w) ?? 0) > since);
      const recovered = active.filter((w) => (this.lastOk.get(w) ?? 0) > since);
      if (recovered.length > 0 && recovered.length === active.length) {
        return Date.now() - since;
      }
      if (Date.now() > deadline) {
        throw new Error(
          `not recovered after ${timeoutMs} ms: waiting for ${active.filter((w) => !recovered.includes(w)).join(', ')}`,
        );
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  private record(workload: string, phase: Phase, result: StepResult): void {
    const tallies = [this.total, this.tally(this.byWorkload, workload), this.tally(this.byPhase, phase.name)];
    const bump = (key: keyof Tally) => tallies.forEach((t) => t[key]++);
    bump('sent');
    const { answer } = result;
    this.lastSent.set(workload, Date.now());
    this.slowestMs = Math.max(this.slowestMs, answer.ms);
    const violation = (why: string) => {
      bump('violations');
      if (this.violations.length < 200) this.violations.push(`${workload} during ${phase.name}: ${why}`);
    };
    if (result.violation) return violation(result.violation);
    switch (answer.kind) {
      case 'hang':
        return violation(`no answer within ${answer.ms} ms (hang)`);
      case 'refused':
        // A request sent just before the gateway was killed fails in the kill phase.
        if (!phase.allowRefused && !this.phase.allowRefused)
          return violation(`connection failed after ${answer.ms} ms: ${answer.message}`);
        bump('refused');
        return bump('failedFast');
      case 'http': {
        if (answer.status >= 200 && answer.status < 300) {
          this.lastOk.set(workload, Date.now());
          return bump('ok');
        }
        if (answer.status === 503) {
          const error = errorCode(answer.body);
          if (error !== 'temporarily_unavailable') return violation(`503 with error ${error}`);
          if (!/^\d+$/.test(answer.headers.get('retry-after') ?? ''))
            return violation('503 without Retry-After');
          return bump('failedFast');
        }
        if (answer.status < 500 && result.expected) return bump('expected4xx');
        return violation(`${answer.status} ${answer.body.slice(0, 200)}`);
      }
      default: {
        const unknown: never = answer;
        return unknown;
      }
    }
  }

  private tally(map: Map<string, Tally>, key: string): Tally {
    let t = map.get(key);
    if (!t) map.set(key, (t = emptyTally()));
    return t;
  }
}

export function errorCode(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: unknown };
    return typeof parsed.error === 'string' ? parsed.error : '(no error member)';
  } catch {
    return '(not JSON)';
  }
}
