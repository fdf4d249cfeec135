import type { ClientView, PresentedClientCredentials, RequestContext } from '#lib/contracts';
import { Subjects } from '#lib/contracts';
import { invalidClient } from '#lib/oauth-errors';
import { BASIC_CHALLENGE } from '#lib/oauth-protocol';
import { clientStreamId } from './client.js';
import type { ClientDirectory } from './client-directory.js';
import { CLIENT_MOVED, onCurrentClient } from './client-views.js';

/** Request/reply to the client registry (the services' RpcClient). */
export interface RegistryRpc {
  request<Result>(subject: string, payload: unknown): Promise<Result>;
}

/**
 * An authenticated caller: from the service's ClientDirectory, at `version` of its stream (to be
 * confirmed current before the answer leaves), or by the client registry (private_key_jwt, whose
 * jti the registry records), current already (`version` null).
 */
export interface Caller {
  client: ClientView;
  version: number | null;
}

/** RFC 7662 §2.1, RFC 7009 §2.1: the caller authenticates like at the token endpoint. */
export async function authenticateCaller(
  directory: ClientDirectory,
  rpc: RegistryRpc,
  context: RequestContext,
  credentials: PresentedClientCredentials | null,
): Promise<Caller> {
  if (credentials === null) {
    throw invalidClient('client authentication required', {
      headers: { 'WWW-Authenticate': BASIC_CHALLENGE },
    });
  }
  if (credentials.method === 'private_key_jwt') {
    return {
      client: await rpc.request<ClientView>(Subjects.client.authenticate, { context, credentials }),
      version: null,
    };
  }
  return directory.authenticate(credentials, context.ip);
}

/**
 * One read of stream versions (ARCHITECTURE.md: security reads are never stale): whether the caller
 * is still the client it was authenticated as, and which of `clientIds` are active now.
 */
export async function confirmClients(
  directory: ClientDirectory,
  caller: Caller,
  clientIds: readonly string[],
  versionsRead: ReadonlyMap<string, number> | null = null,
): Promise<{ callerMoved: boolean; isActive(clientId: string): boolean }> {
  const ids = caller.version === null ? [...clientIds] : [caller.client.clientId, ...clientIds];
  // Versions read after the authentication, with the token's row, serve when they cover every id.
  const current =
    versionsRead !== null && ids.every((id) => versionsRead.has(clientStreamId(id)))
      ? await directory.currentAt(ids, versionsRead)
      : await directory.current(ids);
  return {
    callerMoved: caller.version !== null && current.get(caller.client.clientId)!.version !== caller.version,
    isActive: (clientId) => current.get(clientId)?.state.status === 'active',
  };
}

/** Who moved, in the log detail of a request whose caller moved under both decisions. */
export const CALLER = 'the calling client';

/** The caller authenticated, confirmed current by one read of its stream's version. */
export function authenticateCurrentCaller(
  directory: ClientDirectory,
  rpc: RegistryRpc,
  context: RequestContext,
  credentials: PresentedClientCredentials | null,
): Promise<ClientView> {
  return onCurrentClient(async () => {
    const caller = await authenticateCaller(directory, rpc, context, credentials);
    return (await confirmClients(directory, caller, [])).callerMoved ? CLIENT_MOVED : caller.client;
  }, CALLER);
}
