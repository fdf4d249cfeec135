/**
 * Reads asked for in the same turn of the event loop, answered together (under load, every request
 * that arrived in one socket read): `read` gets them in chunks of at most `max`, in the order they
 * were asked for, and answers each in that order. Each is still a read made after it was asked for.
 * A chunk that fails rejects every read in it.
 */
export class ReadsPerTurn<Request, Result> {
  private waiting: { request: Request; resolve: (r: Result) => void; reject: (err: unknown) => void }[] = [];

  constructor(
    private readonly max: number,
    private readonly read: (requests: Request[]) => Promise<Result[]>,
  ) {}

  ask(request: Request): Promise<Result> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ request, resolve, reject });
      if (this.waiting.length === 1) setImmediate(() => this.readWaiting());
    });
  }

  private readWaiting(): void {
    const waiting = this.waiting;
    this.waiting = [];
    for (let i = 0; i < waiting.length; i += this.max) {
      const chunk = waiting.slice(i, i + this.max);
      this.read(chunk.map((w) => w.request)).then(
        (results) => chunk.forEach((w, j) => w.resolve(results[j]!)),
        (err: unknown) => chunk.forEach((w) => w.reject(err)),
      );
    }
  }
}
