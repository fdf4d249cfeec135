import type { Config } from '#lib/config';
import {
  type AdminClientRequest,
  type ClientPrivilegeRequest,
  type ClientView,
  type CreateInitialAccessTokenResponse,
  type InitialAccessTokenView,
  type ListInitialAccessTokensResponse,
  type ListClientsResponse,
  type RegisterClientRequest,
  type RegisterClientResponse,
  type RotateClientSecretResponse,
  Subjects,
  type TokenEndpointAuthMethod,
} from '#lib/contracts';
import { clientSecretExpiresAt } from '#lib/domain-client';
import { parseArgs } from 'node:util';
import { adminCommand, withRpc } from '../rpc.js';

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
clients grant-scope CLIENT_ID SCOPE       (a privileged scope, e.g. admin)
clients revoke-scope CLIENT_ID SCOPE
clients initial-access-token [--ttl SECONDS] [--max-uses N]
clients initial-access-tokens             (list)
clients revoke-initial-access-token ID`;

export async function clientsCommand(config: Config, args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  const admin = adminCommand(config);
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
        ...admin,
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
        rpc.request<RegisterClientResponse>(Subjects.client.admin.register, request),
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
        rpc.request<RotateClientSecretResponse>(Subjects.client.admin.rotateSecret, {
          ...admin,
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
        rpc.request<ListClientsResponse>(Subjects.client.admin.list, {
          ...admin,
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
      const request: AdminClientRequest = { ...admin, clientId };
      const subject = {
        update: Subjects.client.admin.update,
        disable: Subjects.client.admin.disable,
        delete: Subjects.client.admin.delete,
        history: Subjects.client.admin.history,
      }[sub];
      if (sub === 'update' && values.metadata === undefined) throw new Error(`usage: ${CLIENTS_USAGE}`);
      const payload =
        sub === 'update' ? { ...request, document: JSON.parse(values.metadata!) as unknown } : request;
      const result = await withRpc(config, (rpc) => rpc.request<unknown>(subject, payload));
      console.log(sub === 'delete' ? `deleted ${clientId}` : JSON.stringify(result, null, 2));
      return;
    }
    case 'grant-scope':
    case 'revoke-scope': {
      const [clientId, scope] = rest;
      if (!clientId || !scope) throw new Error(`usage: ${CLIENTS_USAGE}`);
      const subject =
        sub === 'grant-scope' ? Subjects.client.admin.grantScope : Subjects.client.admin.revokeScope;
      const request: ClientPrivilegeRequest = { ...admin, clientId, scope };
      const client = await withRpc(config, (rpc) => rpc.request<ClientView>(subject, request));
      console.log(JSON.stringify(client, null, 2));
      return;
    }
    case 'initial-access-token': {
      const { values } = parseArgs({
        args: rest,
        options: { ttl: { type: 'string' }, 'max-uses': { type: 'string' }, json: { type: 'boolean' } },
      });
      const result = await withRpc(config, (rpc) =>
        rpc.request<CreateInitialAccessTokenResponse>(Subjects.client.admin.createInitialAccessToken, {
          ...admin,
          ...(values.ttl === undefined ? {} : { ttlSeconds: Number(values.ttl) }),
          ...(values['max-uses'] === undefined ? {} : { maxUses: Number(values['max-uses']) }),
        }),
      );
      const { token } = result;
      if (values.json) {
        console.log(
          JSON.stringify({
            initial_access_token: result.initialAccessToken,
            id: token.id,
            expires_at: token.expiresAt,
            max_uses: token.maxUses,
          }),
        );
        return;
      }
      console.log(
        `initial_access_token: ${result.initialAccessToken}   (shown once; POST /register with it as a Bearer token)`,
      );
      console.log(`id:                   ${token.id}`);
      console.log(`expires_at:           ${token.expiresAt}`);
      console.log(`max_uses:             ${token.maxUses ?? 'any'}`);
      return;
    }
    case 'initial-access-tokens': {
      const result = await withRpc(config, (rpc) =>
        rpc.request<ListInitialAccessTokensResponse>(Subjects.client.admin.listInitialAccessTokens, admin),
      );
      console.log(JSON.stringify(result, null, 2));
      return;
    }
    case 'revoke-initial-access-token': {
      const id = rest[0];
      if (!id) throw new Error(`usage: ${CLIENTS_USAGE}`);
      const result = await withRpc(config, (rpc) =>
        rpc.request<InitialAccessTokenView>(Subjects.client.admin.revokeInitialAccessToken, { ...admin, id }),
      );
      console.log(JSON.stringify(result, null, 2));
      return;
    }
    case 'show': {
      const clientId = rest[0];
      if (!clientId) throw new Error(`usage: ${CLIENTS_USAGE}`);
      const client = await withRpc(config, (rpc) =>
        rpc.request<ClientView>(Subjects.client.admin.read, { ...admin, clientId }),
      );
      console.log(JSON.stringify(client, null, 2));
      return;
    }
    default:
      throw new Error(`usage: ${CLIENTS_USAGE}`);
  }
}
