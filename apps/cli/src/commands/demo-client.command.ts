import type { Config } from '#lib/config';
import { type RegisterClientResponse, type RotateClientSecretResponse, Subjects } from '#lib/contracts';
import { OAuthError } from '#lib/oauth-errors';
import { adminCommand, withRpc } from '../rpc.js';

export const DEMO_CLIENT_ID = 'demo-service';

/**
 * The demo client (client_credentials, scope "read write"): registered once, its secret re-issued
 * at every start so that it can be printed. `npm start` and the `demo-client` command (which the
 * Compose file runs once the services are healthy) share it.
 */
export async function seedDemoClient(config: Config): Promise<{ clientId: string; clientSecret: string }> {
  return withRpc(config, async (rpc) => {
    const admin = adminCommand(config);
    try {
      const created = await rpc.request<RegisterClientResponse>(Subjects.client.admin.register, {
        ...admin,
        clientId: DEMO_CLIENT_ID,
        clientName: 'Demo service',
        grantTypes: ['client_credentials'],
        scope: ['read', 'write'],
        defaultScope: ['read'],
        tokenEndpointAuthMethod: 'client_secret_basic',
      });
      return { clientId: created.client.clientId, clientSecret: created.clientSecret! };
    } catch (err) {
      if (!(err instanceof OAuthError) || err.error !== 'invalid_client_metadata') throw err;
      const rotated = await rpc.request<RotateClientSecretResponse>(Subjects.client.admin.rotateSecret, {
        ...admin,
        clientId: DEMO_CLIENT_ID,
      });
      return rotated;
    }
  });
}
