import { type Command, Option } from 'commander';
import type { TokenEndpointAuthMethod } from '#lib/contracts';
import { append, type CliContext, collect, formatDocument, integer, withJson } from '../cli-context.js';
import type { AdminPlane, ClientInput, Doc } from '../admin-plane.js';
import { CliError } from '../output.js';

const AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'private_key_jwt', 'none'];

function clientLine(c: Doc): string {
  const grants = Array.isArray(c.grant_types) ? c.grant_types.join(' ') : '';
  return `${String(c.client_id)}  ${String(c.status)}  "${String(c.client_name)}"  grants=${grants}  scope="${String(c.scope)}"`;
}

function tokenLine(t: Doc): string {
  return `${String(t.id)}  ${String(t.status)}  expires ${String(t.expires_at)}  uses ${String(t.uses)}/${t.max_uses === null ? 'any' : String(t.max_uses)}`;
}

/** RFC 7591 §3.2.1 `client_secret_expires_at` as an instant (0: the secret does not expire). */
function secretExpiry(expiresAt: unknown): string {
  return !expiresAt ? 'never' : new Date(Number(expiresAt) * 1000).toISOString();
}

/** The way to the system the command chose: NATS, or the admin API with --admin-url. */
async function plane(ctx: CliContext, cmd: Command): Promise<AdminPlane> {
  await ctx.useDevEnvironment();
  return ctx.adminPlane(cmd);
}

/** `clients …`: clients and RFC 7591 initial access tokens, over NATS or the admin API. */
export function registerClients(program: Command, ctx: CliContext): void {
  const clients = program
    .command('clients')
    .description('manage clients and initial access tokens (over NATS, or the admin API with --admin-url)');
  registerCreate(clients, ctx);
  registerList(clients, ctx);
  registerShowAndDisable(clients, ctx);
  registerUpdate(clients, ctx);
  registerRotateSecret(clients, ctx);
  registerDelete(clients, ctx);
  registerHistory(clients, ctx);
  registerScopeGrants(clients, ctx);
  registerInitialAccessTokens(clients, ctx);
}

/** `clients create`: RFC 7591 §2 metadata from options; the secret is printed once. */
function registerCreate(clients: Command, ctx: CliContext): void {
  withJson(
    clients
      .command('create')
      .description('register a client; its secret is shown once')
      .requiredOption('--name <name>', 'client_name')
      .requiredOption('--grant <grant>', 'a grant type (repeatable)', collect)
      .option('--scope <scope>', 'the allowed scope, space-separated', '')
      .option('--default-scope <scope>', 'the scope granted when a request names none')
      .option('--audience <uri>', 'an audience of its tokens (repeatable)', append)
      .option('--redirect-uri <uri>', 'a redirect URI (repeatable)', append)
      .option('--jwks-uri <uri>', 'its JWKS URI (private_key_jwt)')
      .addOption(new Option('--auth-method <method>', 'token_endpoint_auth_method').choices(AUTH_METHODS))
      .addOption(
        new Option('--id-token-alg <alg>', 'id_token_signed_response_alg (default RS256)').choices([
          'RS256',
          'ES256',
          'EdDSA',
        ]),
      )
      .addOption(
        new Option('--subject-type <type>', 'subject_type (default public)').choices(['public', 'pairwise']),
      )
      .option('--post-logout-redirect-uri <uri>', 'a post_logout_redirect_uri (repeatable)', append)
      .option('--sector-identifier-uri <uri>', 'sector_identifier_uri: https JSON array of its redirect URIs')
      .option('--id <client_id>', 'an operator-chosen client_id (NATS only)'),
  ).action(async (o: Record<string, string | string[] | undefined>, cmd: Command) => {
    const split = (v: string | undefined) => (v ?? '').split(/[ ,]+/).filter((x) => x !== '');
    const doc = await (
      await plane(ctx, cmd)
    ).createClient({
      name: o.name as string,
      grants: o.grant as string[],
      scope: split(o.scope as string),
      defaultScope: o.defaultScope === undefined ? undefined : split(o.defaultScope as string),
      audience: o.audience as string[] | undefined,
      redirectUris: o.redirectUri as string[] | undefined,
      jwksUri: o.jwksUri as string | undefined,
      authMethod: o.authMethod as TokenEndpointAuthMethod | undefined,
      idTokenAlg: o.idTokenAlg as ClientInput['idTokenAlg'],
      subjectType: o.subjectType as ClientInput['subjectType'],
      sectorIdentifierUri: o.sectorIdentifierUri as string | undefined,
      postLogoutRedirectUris: o.postLogoutRedirectUri as string[] | undefined,
      id: o.id as string | undefined,
    });
    ctx.out(cmd).data(doc, () => {
      const lines = [`client_id:     ${String(doc.client_id)}`];
      if (doc.client_secret) {
        lines.push(`client_secret: ${String(doc.client_secret)}   (shown once; only its hash is stored)`);
        lines.push(`expires:       ${secretExpiry(doc.client_secret_expires_at)}`);
      }
      lines.push(`grants: ${(doc.grant_types as string[]).join(' ')}   scope: ${String(doc.scope)}`);
      return lines;
    });
  });
}

function registerList(clients: Command, ctx: CliContext): void {
  withJson(
    clients
      .command('list')
      .description('list the current clients, paged by client_id')
      .option('--limit <n>', 'clients in the page (1 to 100)', integer(1, 100), 50)
      .option('--after <cursor>', 'the `next` cursor of the previous page'),
  ).action(async (o: { limit: number; after?: string }, cmd: Command) => {
    const page = await (await plane(ctx, cmd)).listClients(o.limit, o.after);
    ctx
      .out(cmd)
      .data(page, () => [
        ...page.clients.map(clientLine),
        ...(page.next ? [`next: --after ${page.next}`] : []),
      ]);
  });
}

/** `clients show` and `clients disable`: one client in, its document out. */
function registerShowAndDisable(clients: Command, ctx: CliContext): void {
  const oneClient = (name: string, description: string, run: (cmd: Command, id: string) => Promise<Doc>) =>
    withJson(clients.command(name).description(description).argument('<client_id>')).action(
      async (id: string, _o: unknown, cmd: Command) => {
        const doc = await run(cmd, id);
        ctx.out(cmd).data(doc, () => formatDocument(doc));
      },
    );
  oneClient('show', 'read a client (never its secret)', async (cmd, id) =>
    (await plane(ctx, cmd)).showClient(id),
  );
  oneClient(
    'disable',
    'disable a client: it cannot authenticate, its tokens introspect as inactive',
    async (cmd, id) => (await plane(ctx, cmd)).disableClient(id),
  );
}

function registerUpdate(clients: Command, ctx: CliContext): void {
  withJson(
    clients
      .command('update')
      .description("replace a client's metadata (RFC 7592 §2.2 semantics)")
      .argument('<client_id>')
      .requiredOption('--metadata <json>', 'the RFC 7591 §2 metadata document (JSON, snake_case)'),
  ).action(async (id: string, o: { metadata: string }, cmd: Command) => {
    let document: unknown;
    try {
      document = JSON.parse(o.metadata);
    } catch {
      throw new CliError('--metadata must be a JSON document');
    }
    const doc = await (await plane(ctx, cmd)).updateClient(id, document);
    ctx.out(cmd).data(doc, () => formatDocument(doc));
  });
}

function registerRotateSecret(clients: Command, ctx: CliContext): void {
  withJson(
    clients
      .command('rotate-secret')
      .description('issue a new secret (shown once); the old one stops at once unless --grace is given')
      .argument('<client_id>')
      .option('--grace <seconds>', 'seconds the previous secret keeps working', integer(0, 86400), 0),
  ).action(async (id: string, o: { grace: number }, cmd: Command) => {
    const doc = await (await plane(ctx, cmd)).rotateSecret(id, o.grace);
    ctx
      .out(cmd)
      .data(doc, () => [
        `client_id:     ${String(doc.client_id)}`,
        `client_secret: ${String(doc.client_secret)}   (shown once; ${
          o.grace > 0
            ? `the previous secret works for ${o.grace} more seconds`
            : 'the previous secret no longer works'
        })`,
        `expires:       ${secretExpiry(doc.client_secret_expires_at)}`,
      ]);
  });
}

function registerDelete(clients: Command, ctx: CliContext): void {
  withJson(clients.command('delete').description('delete a client').argument('<client_id>')).action(
    async (id: string, _o: unknown, cmd: Command) => {
      await (await plane(ctx, cmd)).deleteClient(id);
      ctx.out(cmd).data({ client_id: id, deleted: true }, () => `deleted ${id}`);
    },
  );
}

function registerHistory(clients: Command, ctx: CliContext): void {
  withJson(
    clients
      .command('history')
      .description("a client's events, in order, each with its actor")
      .argument('<client_id>'),
  ).action(async (id: string, _o: unknown, cmd: Command) => {
    const doc = await (await plane(ctx, cmd)).clientHistory(id);
    const events = doc.events as Doc[];
    ctx
      .out(cmd)
      .data(doc, () =>
        events.map(
          (e) =>
            `${String(e.recorded_at)}  #${String(e.position)}  ${String(e.type)}  actor=${String((e.metadata as Doc | null)?.actor ?? '-')}`,
        ),
      );
  });
}

/** `clients grant-scope` and `clients revoke-scope`: the privileged scopes a client may ask for. */
function registerScopeGrants(clients: Command, ctx: CliContext): void {
  for (const [name, description] of [
    ['grant-scope', 'grant the client a privileged scope (e.g. admin)'],
    ['revoke-scope', 'take a privileged scope back from the client'],
  ] as const) {
    withJson(
      clients.command(name).description(description).argument('<client_id>').argument('<scope>'),
    ).action(async (id: string, scope: string, _o: unknown, cmd: Command) => {
      const p = await plane(ctx, cmd);
      const doc = name === 'grant-scope' ? await p.grantScope(id, scope) : await p.revokeScope(id, scope);
      ctx.out(cmd).data(doc, () => formatDocument(doc));
    });
  }
}

/** `clients initial-access-token(s)` and `revoke-initial-access-token`: RFC 7591 §3 initial access tokens. */
function registerInitialAccessTokens(clients: Command, ctx: CliContext): void {
  withJson(
    clients
      .command('initial-access-token')
      .description('create an RFC 7591 initial access token for POST /register (shown once)')
      .option('--ttl <seconds>', 'its lifetime', integer(1, 365 * 86400))
      .option('--max-uses <n>', 'registrations it allows (default: any)', integer(1, 1_000_000)),
  ).action(async (o: { ttl?: number; maxUses?: number }, cmd: Command) => {
    const doc = await (
      await plane(ctx, cmd)
    ).createInitialAccessToken({ ttlSeconds: o.ttl, maxUses: o.maxUses });
    ctx
      .out(cmd)
      .data(doc, () => [
        `initial_access_token: ${String(doc.initial_access_token)}   (shown once; POST /register with it as a Bearer token)`,
        `id:                   ${String(doc.id)}`,
        `expires_at:           ${String(doc.expires_at)}`,
        `max_uses:             ${doc.max_uses === null ? 'any' : String(doc.max_uses)}`,
      ]);
  });

  withJson(
    clients
      .command('initial-access-tokens')
      .description('list the initial access tokens (never the tokens), newest first'),
  ).action(async (_o: unknown, cmd: Command) => {
    const doc = await (await plane(ctx, cmd)).listInitialAccessTokens();
    ctx.out(cmd).data(doc, () => doc.initial_access_tokens.map(tokenLine));
  });

  withJson(
    clients
      .command('revoke-initial-access-token')
      .description('revoke an initial access token: it registers no further client')
      .argument('<id>', 'the id listed for the token'),
  ).action(async (id: string, _o: unknown, cmd: Command) => {
    const doc = await (await plane(ctx, cmd)).revokeInitialAccessToken(id);
    ctx.out(cmd).data(doc, () => tokenLine(doc));
  });
}
