import type { Config } from '#lib/config';
import { Subjects, type UserView } from '#lib/contracts';
import { OAuthError } from '#lib/oauth-errors';
import { randomBytes } from 'node:crypto';
import { adminCommand, withRpc } from '../rpc.js';

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
