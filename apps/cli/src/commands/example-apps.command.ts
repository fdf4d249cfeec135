import type { Config, ExampleClientConfig, ResourceServerConfig } from '#lib/config';
import {
  type AdminCommand,
  type ClientView,
  type RegisterClientResponse,
  type RotateClientSecretResponse,
  Subjects,
} from '#lib/contracts';
import { clientMetadataDocument } from '#lib/domain-client';
import { OAuthError } from '#lib/oauth-errors';
import type { RpcClient } from '#lib/service-runtime';
import { adminCommand, withRpc } from '../rpc.js';

async function registerOrRotate(
  rpc: RpcClient,
  admin: AdminCommand,
  request: Parameters<typeof registerRequest>[0],
): Promise<{ clientId: string; clientSecret: string }> {
  try {
    const created = await rpc.request<RegisterClientResponse>(
      Subjects.client.admin.register,
      registerRequest(request, admin),
    );
    return { clientId: created.client.clientId, clientSecret: created.clientSecret! };
  } catch (err) {
    if (!(err instanceof OAuthError) || err.error !== 'invalid_client_metadata') throw err;
    await addPostLogoutRedirectUris(rpc, admin, request.clientId, request.postLogoutRedirectUris ?? []);
    return rpc.request<RotateClientSecretResponse>(Subjects.client.admin.rotateSecret, {
      ...admin,
      clientId: request.clientId,
    });
  }
}

/**
 * A client registered by an earlier start keeps its metadata; the post_logout_redirect_uris it
 * lacks (RP-Initiated Logout 1.0 §3.1) are added by an update (RFC 7592 §2.2: the whole document).
 */
async function addPostLogoutRedirectUris(
  rpc: RpcClient,
  admin: AdminCommand,
  clientId: string,
  uris: string[],
): Promise<void> {
  const client = await rpc.request<ClientView>(Subjects.client.admin.read, { ...admin, clientId });
  const held = client.postLogoutRedirectUris ?? [];
  if (uris.every((u) => held.includes(u))) return;
  await rpc.request<ClientView>(Subjects.client.admin.update, {
    ...admin,
    clientId,
    document: {
      ...clientMetadataDocument(client),
      post_logout_redirect_uris: [...new Set([...held, ...uris])],
    },
  });
}

function registerRequest(
  r: {
    clientId: string;
    clientName: string;
    grantTypes: string[];
    scope: string[];
    audience?: string[];
    redirectUris?: string[];
    postLogoutRedirectUris?: string[];
  },
  admin: AdminCommand,
) {
  return { ...admin, tokenEndpointAuthMethod: 'client_secret_basic' as const, ...r };
}

/**
 * The two example apps of `npm start`, registered once and given a fresh secret at every start:
 * - the resource server, whose client_id is its audience (so that introspection lets it ask about
 *   the tokens issued for it: RFC 7662 §2.1, a resource server learns only of its own tokens);
 * - the Example App: authorization_code + refresh_token (and client_credentials for its last step),
 *   scope "openid email profile offline_access", audience the resource server, redirect URI
 *   `<its url>/callback`, post_logout_redirect_uri `<its url>/signed-out`.
 */
export async function seedExampleApps(
  config: Config,
  rs: ResourceServerConfig,
  example: ExampleClientConfig,
): Promise<{ resourceServerSecret: string; exampleClientSecret: string }> {
  const admin = adminCommand(config);
  return withRpc(config, async (rpc) => {
    const resourceServer = await registerOrRotate(rpc, admin, {
      clientId: rs.clientId,
      clientName: 'Example resource server',
      grantTypes: ['client_credentials'],
      scope: ['introspect'],
    });
    const exampleApp = await registerOrRotate(rpc, admin, {
      clientId: example.clientId,
      clientName: 'Example App',
      grantTypes: ['authorization_code', 'refresh_token', 'client_credentials'],
      scope: ['openid', 'email', 'profile', 'offline_access'],
      audience: [rs.audience],
      redirectUris: [`${example.url}/callback`],
      postLogoutRedirectUris: [`${example.url}/signed-out`],
    });
    return {
      resourceServerSecret: resourceServer.clientSecret,
      exampleClientSecret: exampleApp.clientSecret,
    };
  });
}
