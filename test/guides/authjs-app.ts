import express from 'express';
import { ExpressAuth, getSession, type ExpressAuthConfig } from '@auth/express';

export interface AuthJsAppOptions {
  /** The issuer, e.g. https://auth.example.com */
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** At least 32 random characters (AUTH_SECRET): encrypts Auth.js's session cookie. */
  authSecret: string;
}

/**
 * An Express app that signs its users in with Auth.js's generic OpenID Connect provider. Its
 * redirect URI is `<origin>/auth/callback/authz`.
 */
export function authJsApp(o: AuthJsAppOptions): express.Express {
  const authConfig: ExpressAuthConfig = {
    providers: [
      {
        id: 'authz',
        name: 'Authorise Company',
        type: 'oidc',
        issuer: o.issuer,
        clientId: o.clientId,
        clientSecret: o.clientSecret,
        authorization: { params: { scope: 'openid profile email' } },
        // Validate the ID token, then take the claims from UserInfo (name, email).
        idToken: false,
      },
    ],
    secret: o.authSecret,
    // The host of the incoming request names the app (behind a proxy: set AUTH_URL instead).
    trustHost: true,
    callbacks: {
      // Auth.js gives a user its own id; keep the server's `sub` (the account's id) instead, and put
      // it in the session (whose user has name and email only by default).
      jwt({ token, account }) {
        if (account) token.sub = account.providerAccountId;
        return token;
      },
      session({ session, token }) {
        session.user.id = token.sub!;
        return session;
      },
    },
  };

  const app = express();
  app.use('/auth', ExpressAuth(authConfig));
  app.get('/me', async (req, res) => {
    const session = await getSession(req, authConfig);
    if (!session?.user) res.status(401).json({ error: 'not signed in' });
    else res.json(session.user);
  });
  return app;
}
