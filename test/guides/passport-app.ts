import express from 'express';
import session from 'express-session';
import passport from 'passport';
import * as client from 'openid-client';
import { Strategy, type VerifyFunction } from 'openid-client/passport';

export interface PassportAppOptions {
  /** The issuer, e.g. https://auth.example.com */
  issuer: URL;
  clientId: string;
  clientSecret: string;
  /** This app's public origin; its redirect URI is `${appUrl}/auth/callback`. */
  appUrl: string;
  sessionSecret: string;
}

/**
 * An Express app that signs its users in with openid-client's passport Strategy: authorization code
 * + PKCE, the ID token validated against the issuer's jwks_uri, the claims from UserInfo.
 */
export async function passportApp(o: PassportAppOptions): Promise<express.Express> {
  const config = await client.discovery(
    o.issuer,
    o.clientId,
    undefined,
    client.ClientSecretBasic(o.clientSecret),
    // Plain http only for a local issuer such as http://127.0.0.1:8080.
    o.issuer.protocol === 'http:' ? { execute: [client.allowInsecureRequests] } : undefined,
  );

  // The ID token is validated before this runs; the user is its `sub` plus the UserInfo claims.
  const verify: VerifyFunction = async (tokens, verified) => {
    const { sub } = tokens.claims()!;
    const userinfo = await client.fetchUserInfo(config, tokens.access_token, sub);
    verified(null, { ...userinfo, sub });
  };

  const authenticator = new passport.Passport();
  authenticator.use(
    'authz',
    new Strategy({ config, scope: 'openid profile email', callbackURL: `${o.appUrl}/auth/callback` }, verify),
  );
  authenticator.serializeUser((user, done) => done(null, user));
  authenticator.deserializeUser((user: Express.User, done) => done(null, user));

  const app = express();
  app.use(
    session({
      secret: o.sessionSecret,
      resave: false,
      saveUninitialized: false,
      cookie: { httpOnly: true, sameSite: 'lax', secure: o.appUrl.startsWith('https:') },
    }),
  );
  app.use(authenticator.session());
  app.get('/login', authenticator.authenticate('authz'));
  app.get('/auth/callback', authenticator.authenticate('authz', { successRedirect: '/me' }));
  app.get('/me', (req, res) => {
    if (!req.user) res.status(401).json({ error: 'not signed in' });
    else res.json(req.user);
  });
  return app;
}
