import type { ClientProxy } from '@nestjs/microservices';
import { fromWire, OAuthError, temporarilyUnavailable } from '#lib/oauth-errors';
import { lastValueFrom, timeout, TimeoutError } from 'rxjs';

/**
 * Request/reply to a service with a bounded wait. Whatever goes wrong on the way (no service,
 * NATS down, no answer in time) becomes temporarily_unavailable (RFC 6749 §4.1.2.1, §5.2 by
 * analogy; checklist ES-04); an OAuth error answered by the service is rebuilt by its code.
 */
export class RpcClient {
  constructor(
    private readonly proxy: ClientProxy,
    private readonly timeoutMs: number,
  ) {}

  async request<Result>(subject: string, payload: unknown): Promise<Result> {
    try {
      return await lastValueFrom(this.proxy.send<Result>(subject, payload).pipe(timeout(this.timeoutMs)));
    } catch (err) {
      if (err instanceof OAuthError) throw err;
      const oauth = fromWire(err);
      if (oauth) throw oauth;
      if (err instanceof TimeoutError) {
        throw temporarilyUnavailable(`no answer on ${subject} within ${this.timeoutMs} ms`);
      }
      throw temporarilyUnavailable(`request on ${subject} failed: ${describe(err)}`, err);
    }
  }
}

function describe(err: unknown): string {
  if (err instanceof Error) return err.message;
  if (typeof err === 'object' && err !== null) return JSON.stringify(err).slice(0, 200);
  return String(err);
}
