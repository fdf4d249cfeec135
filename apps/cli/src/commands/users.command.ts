import type { Config } from '#lib/config';
import { type ListUsersResponse, Subjects, type UserView } from '#lib/contracts';
import { OAuthError } from '#lib/oauth-errors';
import { randomBytes } from 'node:crypto';
import { parseArgs } from 'node:util';
import { adminCommand, withRpc } from '../rpc.js';

export const USERS_USAGE = `users create USERNAME [--password P | --password-stdin] [--email E] [--name N] [--json]
users list [--limit N] [--after CURSOR]
users show USERNAME
users disable USERNAME        (ends sessions, revokes every grant of the user)
users enable USERNAME
users set-password USERNAME [--password P | --password-stdin]   (revokes every grant of the user)
users consents USERNAME
users revoke-consent USERNAME CLIENT_ID`;

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

/** A password from the options, or a generated one that is printed (shown once). */
async function passwordFrom(values: {
  password?: string;
  'password-stdin'?: boolean;
}): Promise<{ password: string; generated: boolean }> {
  if (values['password-stdin']) return { password: await readStdin(), generated: false };
  if (values.password !== undefined) return { password: values.password, generated: false };
  return { password: randomBytes(12).toString('base64url'), generated: true };
}

function show(u: UserView): string {
  return `${u.username}  sub=${u.sub}  status=${u.status}${u.email ? `  email=${u.email}` : ''}`;
}

export async function usersCommand(config: Config, args: string[]): Promise<void> {
  const [sub, ...rest] = args;
  const admin = adminCommand(config);
  const passwordOptions = {
    password: { type: 'string' },
    'password-stdin': { type: 'boolean' },
    json: { type: 'boolean' },
  } as const;
  switch (sub) {
    case 'create': {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: { ...passwordOptions, email: { type: 'string' }, name: { type: 'string' } },
      });
      const username = positionals[0];
      if (!username) throw new Error(`usage: ${USERS_USAGE}`);
      const { password, generated } = await passwordFrom(values);
      const user = await withRpc(config, (rpc) =>
        rpc.request<UserView>(Subjects.consent.admin.createUser, {
          ...admin,
          username,
          password,
          ...(values.email ? { email: values.email } : {}),
          ...(values.name ? { name: values.name } : {}),
        }),
      );
      if (values.json)
        console.log(
          JSON.stringify({ sub: user.sub, username: user.username, ...(generated ? { password } : {}) }),
        );
      else {
        console.log(show(user));
        if (generated) console.log(`password: ${password}   (shown once; only its argon2id hash is stored)`);
      }
      return;
    }
    case 'list': {
      const { values } = parseArgs({
        args: rest,
        options: { limit: { type: 'string' }, after: { type: 'string' } },
      });
      const page = await withRpc(config, (rpc) =>
        rpc.request<ListUsersResponse>(Subjects.consent.admin.listUsers, {
          ...admin,
          limit: values.limit ? Number(values.limit) : 50,
          ...(values.after ? { after: values.after } : {}),
        }),
      );
      for (const u of page.users) console.log(show(u));
      if (page.next) console.log(`next: --after ${page.next}`);
      return;
    }
    case 'show':
    case 'disable':
    case 'enable': {
      const username = rest[0];
      if (!username) throw new Error(`usage: ${USERS_USAGE}`);
      const subject =
        sub === 'show'
          ? Subjects.consent.admin.getUser
          : sub === 'disable'
            ? Subjects.consent.admin.disableUser
            : Subjects.consent.admin.enableUser;
      const user = await withRpc(config, (rpc) => rpc.request<UserView>(subject, { ...admin, username }));
      console.log(show(user));
      return;
    }
    case 'set-password': {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: passwordOptions,
      });
      const username = positionals[0];
      if (!username) throw new Error(`usage: ${USERS_USAGE}`);
      const { password, generated } = await passwordFrom(values);
      const user = await withRpc(config, (rpc) =>
        rpc.request<UserView>(Subjects.consent.admin.setPassword, { ...admin, username, password }),
      );
      console.log(show(user));
      if (generated) console.log(`password: ${password}   (shown once)`);
      return;
    }
    case 'consents': {
      const username = rest[0];
      if (!username) throw new Error(`usage: ${USERS_USAGE}`);
      const result = await withRpc(config, (rpc) =>
        rpc.request<{ consents: { clientId: string; scope: string[]; grantedAt: string }[] }>(
          Subjects.consent.admin.listConsents,
          { ...admin, username },
        ),
      );
      for (const c of result.consents)
        console.log(`${c.clientId}  scope="${c.scope.join(' ')}"  since ${c.grantedAt}`);
      return;
    }
    case 'revoke-consent': {
      const [username, clientId] = rest;
      if (!username || !clientId) throw new Error(`usage: ${USERS_USAGE}`);
      const result = await withRpc(config, (rpc) =>
        rpc.request<{ revoked: boolean; grantsRevoked: number }>(Subjects.consent.admin.revokeConsent, {
          ...admin,
          username,
          clientId,
        }),
      );
      console.log(
        `consent ${result.revoked ? 'revoked' : 'was not held'}; grants revoked: ${result.grantsRevoked}`,
      );
      return;
    }
    default:
      throw new Error(`usage: ${USERS_USAGE}`);
  }
}

export const DEMO_USERNAME = 'demo';

/**
 * The demo resource owner of `npm start`: created once (email demo@example.com), given a fresh
 * password at every start so that it can be printed (which, as any new password, revokes its grants).
 */
export async function seedDemoUser(config: Config): Promise<{ username: string; password: string }> {
  const password = randomBytes(12).toString('base64url');
  await withRpc(config, async (rpc) => {
    const admin = adminCommand(config);
    try {
      await rpc.request<UserView>(Subjects.consent.admin.createUser, {
        ...admin,
        username: DEMO_USERNAME,
        password,
        email: 'demo@example.com',
        name: 'Demo User',
      });
    } catch (err) {
      if (!(err instanceof OAuthError) || err.status !== 409) throw err;
      await rpc.request<UserView>(Subjects.consent.admin.setPassword, {
        ...admin,
        username: DEMO_USERNAME,
        password,
      });
    }
  });
  return { username: DEMO_USERNAME, password };
}
