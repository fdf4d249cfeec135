import type { Config } from '#lib/config';
import {
  type ClientView,
  type RegisterClientRequest,
  type RegisterClientResponse,
  type RotateClientSecretResponse,
  Subjects,
  type TokenEndpointAuthMethod,
} from '#lib/contracts';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { withRpc } from '../rpc.js';

const list = (values: string[] | undefined) =>
  (values ?? []).flatMap((v) => v.split(/[ ,]+/)).filter((v) => v !== '');

export const CLIENTS_USAGE = `clients create --name NAME --grant GRANT [--grant …] --scope "a b"
               [--default-scope "a"] [--audience URI …] [--auth-method client_secret_basic|client_secret_post|none] [--id ID]
clients rotate-secret CLIENT_ID
clients show CLIENT_ID`;

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
          id: { type: 'string' },
          json: { type: 'boolean' },
        },
      });
      if (!values.name || !values.grant) throw new Error(`usage: ${CLIENTS_USAGE}`);
      const request: RegisterClientRequest = {
        context,
        actor: 'admin:cli',
        clientName: values.name,
        grantTypes: list(values.grant),
        scope: list([values.scope ?? '']),
        defaultScope: values['default-scope'] === undefined ? undefined : list([values['default-scope']]),
        audience: values.audience,
        tokenEndpointAuthMethod: values['auth-method'] as TokenEndpointAuthMethod | undefined,
        clientId: values.id,
      };
      const result = await withRpc(config, (rpc) =>
        rpc.request<RegisterClientResponse>(Subjects.client.register, request),
      );
      if (values.json) {
        console.log(
          JSON.stringify({ client_id: result.client.clientId, client_secret: result.clientSecret }),
        );
      } else {
        console.log(`client_id:     ${result.client.clientId}`);
        if (result.clientSecret)
          console.log(`client_secret: ${result.clientSecret}   (shown once; only its hash is stored)`);
        console.log(
          `grants: ${result.client.grantTypes.join(' ')}   scope: ${result.client.scope.join(' ')}`,
        );
      }
      return;
    }
    case 'rotate-secret': {
      const clientId = rest[0];
      if (!clientId) throw new Error(`usage: ${CLIENTS_USAGE}`);
      const result = await withRpc(config, (rpc) =>
        rpc.request<RotateClientSecretResponse>(Subjects.client.rotateSecret, {
          context,
          actor: 'admin:cli',
          clientId,
        }),
      );
      console.log(`client_id:     ${result.clientId}`);
      console.log(
        `client_secret: ${result.clientSecret}   (shown once; the previous secret no longer works)`,
      );
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
