import type { Config } from '#lib/config';
import {
  type ClientManagementRequest,
  type ClientView,
  type CreateInitialAccessTokenResponse,
  type ListClientsResponse,
  type RegisterClientRequest,
  type RegisterClientResponse,
  type RotateClientSecretResponse,
  Subjects,
  type TokenEndpointAuthMethod,
} from '#lib/contracts';
import { clientSecretExpiresAt } from '#lib/domain-client';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { withRpc } from '../rpc.js';

const list = (values: string[] | undefined) =>
  (values ?? []).flatMap((v) => v.split(/[ ,]+/)).filter((v) => v !== '');

export const CLIENTS_USAGE = `clients create --name NAME --grant GRANT [--grant …] --scope "a b"
               [--default-scope "a"] [--audience URI …] [--redirect-uri URI …] [--jwks-uri URI]
               [--auth-method client_secret_basic|client_secret_post|private_key_jwt|none] [--id ID]
clients list [--limit N] [--after CURSOR]
clients show CLIENT_ID
clients update CLIENT_ID --metadata '{RFC 7591 JSON}'
clients rotate-secret CLIENT_ID [--grace SECONDS]
clients disable CLIENT_ID
clients delete CLIENT_ID
clients history CLIENT_ID
clients initial-access-token [--ttl SECONDS]`;

const ACTOR = 'admin:cli';

export async function clientsCommand(config: Config, args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  const context = { correlationId: randomUUID() };
  switch (sub) {
    case 'create': {
      const { values } = parseArgs({
        args: rest,
        options: {
          name: { type: 'string' },
          grant: { type: 'string', multiple: true },
          scope: { type: 'string' },
          'default-scope': { type: 'string' },
          audience: { type: 'string', multiple: true },
          'auth-method': { type: 'string' },
          'redirect-uri': { type: 'string', multiple: true },
          'jwks-uri': { type: 'string' },
          id: { type: 'string' },
          json: { type: 'boolean' },
        },
      });
      if (!values.name || !values.grant) throw new Error(`usage: ${CLIENTS_USAGE}`);
      const request: RegisterClientRequest = {
        context,
        actor: ACTOR,
        clientName: values.name,
        grantTypes: list(values.grant),
        scope: list([values.scope ?? '']),
        defaultScope: values['default-scope'] === undefined ? undefined : list([values['default-scope']]),
        audience: values.audience,
        tokenEndpointAuthMethod: values['auth-method'] as TokenEndpointAuthMethod | undefined,
        clientId: values.id,
        redirectUris: values['redirect-uri'],
        jwksUri: values['jwks-uri'],
      };
      const result = await withRpc(config, (rpc) =>
        rpc.request<RegisterClientResponse>(Subjects.client.register, request),
      );
      const expiresAt = result.client.secretExpiresAt;
      if (values.json) {
        console.log(
          JSON.stringify({
            client_id: result.client.clientId,
            client_secret: result.clientSecret,
            ...(expiresAt === undefined
              ? {}
              : { client_secret_expires_at: clientSecretExpiresAt(expiresAt) }),
          }),
        );
      } else {
        console.log(`client_id:     ${result.client.clientId}`);
        if (result.clientSecret) {
          console.log(`client_secret: ${result.clientSecret}   (shown once; only its hash is stored)`);
          console.log(`expires:       ${expiresAt ?? 'never'}`);
        }
        console.log(
          `grants: ${result.client.grantTypes.join(' ')}   scope: ${result.client.scope.join(' ')}`,
        );
      }
      return;
    }
    case 'rotate-secret': {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: { grace: { type: 'string' }, json: { type: 'boolean' } },
      });
      const clientId = positionals[0];
      if (!clientId) throw new Error(`usage: ${CLIENTS_USAGE}`);
      const graceSeconds = values.grace === undefined ? 0 : Number(values.grace);
      const result = await withRpc(config, (rpc) =>
        rpc.request<RotateClientSecretResponse>(Subjects.client.rotateSecret, {
          context,
          actor: ACTOR,
          clientId,
          graceSeconds,
        }),
      );
      if (values.json) {
        console.log(
          JSON.stringify({
            client_id: result.clientId,
            client_secret: result.clientSecret,
            client_secret_expires_at: clientSecretExpiresAt(result.secretExpiresAt),
          }),
        );
        return;
      }
      console.log(`client_id:     ${result.clientId}`);
      console.log(
        `client_secret: ${result.clientSecret}   (shown once; ${
          graceSeconds > 0
            ? `the previous secret works for ${graceSeconds} more seconds`
            : 'the previous secret no longer works'
        })`,
      );
      console.log(`expires:       ${result.secretExpiresAt ?? 'never'}`);
      return;
    }
    case 'list': {
      const { values } = parseArgs({
        args: rest,
        options: { limit: { type: 'string' }, after: { type: 'string' } },
      });
      const page = await withRpc(config, (rpc) =>
        rpc.request<ListClientsResponse>(Subjects.client.list, {
          context,
          limit: values.limit === undefined ? 50 : Number(values.limit),
          after: values.after,
        }),
      );
      console.log(JSON.stringify({ clients: page.clients, next: page.next ?? null }, null, 2));
      return;
    }
    case 'update':
    case 'disable':
    case 'delete':
    case 'history': {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: { metadata: { type: 'string' } },
      });
      const clientId = positionals[0];
      if (!clientId) throw new Error(`usage: ${CLIENTS_USAGE}`);
      const request: ClientManagementRequest = {
        context,
        actor: ACTOR,
        clientId,
        authorization: { kind: 'admin' },
      };
      const subject = {
        update: Subjects.client.update,
        disable: Subjects.client.disable,
        delete: Subjects.client.delete,
        history: Subjects.client.history,
      }[sub];
      if (sub === 'update' && values.metadata === undefined) throw new Error(`usage: ${CLIENTS_USAGE}`);
      const payload =
        sub === 'update' ? { ...request, document: JSON.parse(values.metadata!) as unknown } : request;
      const result = await withRpc(config, (rpc) => rpc.request<unknown>(subject, payload));
      console.log(sub === 'delete' ? `deleted ${clientId}` : JSON.stringify(result, null, 2));
      return;
    }
    case 'initial-access-token': {
      const { values } = parseArgs({
        args: rest,
        options: { ttl: { type: 'string' }, json: { type: 'boolean' } },
      });
      const result = await withRpc(config, (rpc) =>
        rpc.request<CreateInitialAccessTokenResponse>(Subjects.client.createInitialAccessToken, {
          context,
          actor: ACTOR,
          ttlSeconds: values.ttl === undefined ? undefined : Number(values.ttl),
        }),
      );
      if (values.json) {
        console.log(
          JSON.stringify({ initial_access_token: result.initialAccessToken, expires_at: result.expiresAt }),
        );
        return;
      }
      console.log(
        `initial_access_token: ${result.initialAccessToken}   (shown once; POST /register with it as a Bearer token)`,
      );
      console.log(`expires_at:           ${result.expiresAt}`);
      return;
    }
    case 'show': {
      const clientId = rest[0];
      if (!clientId) throw new Error(`usage: ${CLIENTS_USAGE}`);
      const client = await withRpc(config, (rpc) =>
        rpc.request<ClientView>(Subjects.client.get, { clientId }),
      );
      console.log(JSON.stringify(client, null, 2));
      return;
    }
    default:
      throw new Error(`usage: ${CLIENTS_USAGE}`);
  }
}
