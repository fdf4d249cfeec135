import type { Command } from 'commander';
import { randomBytes } from 'node:crypto';
import type { AdminPlane, Doc } from '../admin-plane.js';
import { type CliContext, integer, withJson } from '../cli-context.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

interface PasswordOptions {
  password?: string;
  passwordStdin?: boolean;
}

/** A password from the options, or a generated one that is printed (shown once). */
async function passwordFrom(o: PasswordOptions): Promise<{ password: string; generated: boolean }> {
  if (o.passwordStdin) return { password: await readStdin(), generated: false };
  if (o.password !== undefined) return { password: o.password, generated: false };
  return { password: randomBytes(12).toString('base64url'), generated: true };
}

function show(u: Doc): string {
  return `${String(u.username)}  sub=${String(u.sub)}  status=${String(u.status)}${u.email ? `  email=${String(u.email)}` : ''}`;
}

const withPassword = (cmd: Command) =>
  cmd
    .option('--password <password>', 'the password (visible to other local users in the process list)')
    .option('--password-stdin', 'read the password from stdin');

/** The way to the system the command chose: NATS, or the admin API with --admin-url. */
async function plane(ctx: CliContext, cmd: Command): Promise<AdminPlane> {
  await ctx.useDevEnvironment();
  return ctx.adminPlane(cmd);
}

/** `users …`: resource owners and their consents, over NATS or the admin API. */
export function registerUsers(program: Command, ctx: CliContext): void {
  const users = program
    .command('users')
    .description('manage resource owners and their consents (over NATS, or the admin API with --admin-url)');
  registerCreate(users, ctx);
  registerList(users, ctx);
  registerShowDisableEnable(users, ctx);
  registerSetPassword(users, ctx);
  registerErase(users, ctx);
  registerConsents(users, ctx);
  registerSessions(users, ctx);
}

function registerCreate(users: Command, ctx: CliContext): void {
  withJson(
    withPassword(
      users
        .command('create')
        .description('create a resource owner (a generated password is printed once)')
        .argument('<username>'),
    )
      .option('--email <email>')
      .option('--name <name>'),
  ).action(async (username: string, o: PasswordOptions & { email?: string; name?: string }, cmd: Command) => {
    const { password, generated } = await passwordFrom(o);
    const user = await (
      await plane(ctx, cmd)
    ).createUser({
      username,
      password,
      ...(o.email ? { email: o.email } : {}),
      ...(o.name ? { name: o.name } : {}),
    });
    ctx
      .out(cmd)
      .data({ ...user, ...(generated ? { password } : {}) }, () => [
        show(user),
        ...(generated ? [`password: ${password}   (shown once; only its argon2id hash is stored)`] : []),
      ]);
  });
}

function registerList(users: Command, ctx: CliContext): void {
  withJson(
    users
      .command('list')
      .description('list resource owners, paged by sub')
      .option('--limit <n>', 'users in the page (1 to 100)', integer(1, 100), 50)
      .option('--after <cursor>', 'the `next` cursor of the previous page'),
  ).action(async (o: { limit: number; after?: string }, cmd: Command) => {
    const page = await (await plane(ctx, cmd)).listUsers(o.limit, o.after);
    ctx
      .out(cmd)
      .data(page, () => [...page.users.map(show), ...(page.next ? [`next: --after ${page.next}`] : [])]);
  });
}

/** `users show`, `users disable` and `users enable`: one user in, the user out. */
function registerShowDisableEnable(users: Command, ctx: CliContext): void {
  for (const [name, description] of [
    ['show', 'read a resource owner (never the password hash)'],
    ['disable', 'disable a user: sessions end, every grant of the user is revoked'],
    ['enable', 'enable a disabled user again'],
  ] as const) {
    withJson(users.command(name).description(description).argument('<username>')).action(
      async (username: string, _o: unknown, cmd: Command) => {
        const p = await plane(ctx, cmd);
        const user =
          name === 'show'
            ? await p.showUser(username)
            : name === 'disable'
              ? await p.disableUser(username)
              : await p.enableUser(username);
        ctx.out(cmd).data(user, () => show(user));
      },
    );
  }
}

/** `users erase <sub>`: GDPR Art. 17 (docs/privacy-and-retention.md). */
function registerErase(users: Command, ctx: CliContext): void {
  withJson(
    users
      .command('erase')
      .description(
        "forget a user (GDPR Art. 17): the user's data key is destroyed, personal fields of their history read as erased; sessions end, grants are revoked",
      )
      .argument('<sub>', 'the user id (`users show <username>` prints it)'),
  ).action(async (sub: string, _o: unknown, cmd: Command) => {
    const user = await (await plane(ctx, cmd)).eraseUser(sub);
    ctx.out(cmd).data(user, () => show(user));
  });
}

function registerSetPassword(users: Command, ctx: CliContext): void {
  withJson(
    withPassword(
      users
        .command('set-password')
        .description('set a new password (a generated one is printed once); revokes every grant of the user')
        .argument('<username>'),
    ),
  ).action(async (username: string, o: PasswordOptions, cmd: Command) => {
    const { password, generated } = await passwordFrom(o);
    const user = await (await plane(ctx, cmd)).setPassword(username, password);
    ctx
      .out(cmd)
      .data({ ...user, ...(generated ? { password } : {}) }, () => [
        show(user),
        ...(generated ? [`password: ${password}   (shown once)`] : []),
      ]);
  });
}

/** `users consents` and `users revoke-consent`: the consents a user remembered. */
function registerConsents(users: Command, ctx: CliContext): void {
  withJson(
    users.command('consents').description("a user's remembered consents").argument('<username>'),
  ).action(async (username: string, _o: unknown, cmd: Command) => {
    const doc = await (await plane(ctx, cmd)).consents(username);
    ctx
      .out(cmd)
      .data(doc, () =>
        (doc.consents as Doc[]).map(
          (c) => `${String(c.client_id)}  scope="${String(c.scope)}"  since ${String(c.granted_at)}`,
        ),
      );
  });

  withJson(
    users
      .command('revoke-consent')
      .description('revoke a consent: the grants made under it and their tokens are revoked')
      .argument('<username>')
      .argument('<client_id>'),
  ).action(async (username: string, clientId: string, _o: unknown, cmd: Command) => {
    const doc = await (await plane(ctx, cmd)).revokeConsent(username, clientId);
    ctx
      .out(cmd)
      .data(doc, () => [
        `consent ${doc.revoked ? 'revoked' : 'was not held'}; grants revoked: ${String(doc.grants_revoked)}`,
      ]);
  });
}

/** `users sessions` and `users end-session`: a user's browser sessions. */
function registerSessions(users: Command, ctx: CliContext): void {
  withJson(
    users.command('sessions').description("a user's browser sessions that stand").argument('<username>'),
  ).action(async (username: string, _o: unknown, cmd: Command) => {
    const doc = await (await plane(ctx, cmd)).sessions(username);
    ctx
      .out(cmd)
      .data(doc, () =>
        (doc.sessions as Doc[]).map(
          (s) =>
            `${String(s.sid)}  ${String(s.browser)} on ${String(s.os)}  since ${String(s.started_at)}  last used ${String(s.last_used_at)}`,
        ),
      );
  });

  withJson(
    users
      .command('end-session')
      .description("end one of a user's browser sessions (SessionEnded, reason admin)")
      .argument('<username>')
      .argument('<sid>'),
  ).action(async (username: string, sid: string, _o: unknown, cmd: Command) => {
    const doc = await (await plane(ctx, cmd)).endSession(username, sid);
    ctx.out(cmd).data(doc, () => [`session ${doc.ended ? 'ended' : 'had already ended'}`]);
  });
}
