import type { ClientView, PresentedClientCredentials, RequestContext } from '#lib/contracts';
import { Subjects } from '#lib/contracts';
import { invalidClient } from '#lib/oauth-errors';
import type { RpcClient } from '#lib/service-runtime';

/** RFC 7662 §2.1, RFC 7009 §2.1: the caller authenticates like at the token endpoint. */
export async function authenticateCaller(
  rpc: RpcClient,
  context: RequestContext,
  credentials: PresentedClientCredentials | null,
): Promise<ClientView> {
  if (credentials === null) {
    throw invalidClient('client authentication required', {
      headers: { 'WWW-Authenticate': 'Basic realm="token", charset="UTF-8"' },
    });
  }
  return rpc.request<ClientView>(Subjects.client.authenticate, { context, credentials });
}
