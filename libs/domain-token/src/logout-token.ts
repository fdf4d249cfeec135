import type { ClientView } from '#lib/contracts';
import type { IdTokenSigningAlg } from '#lib/oauth-protocol';
import { idTokenAlgOf } from './id-token.js';
import { subjectFor } from './subject.js';

/** Back-Channel Logout 1.0 §2.4: the event member that makes a JWT a logout token. */
export const BACKCHANNEL_LOGOUT_EVENT = 'http://schemas.openid.net/event/backchannel-logout';

/** §2.4: "a short lifetime", such as two minutes; each delivery attempt gets a fresh token. */
export const LOGOUT_TOKEN_TTL_SECONDS = 120;

/** The claims of a logout token (§2.4). */
export interface LogoutTokenClaims {
  iss: string;
  sub: string;
  aud: string;
  iat: number;
  exp: number;
  jti: string;
  sid: string;
  events: Record<typeof BACKCHANNEL_LOGOUT_EVENT, Record<string, never>>;
}

/**
 * The logout token of one delivery (Back-Channel Logout 1.0 §2.4): iss, aud the client alone, iat,
 * exp, jti, the `events` member, `sub` as the client sees the user (Core §8: pairwise for a
 * pairwise client) and `sid` always (so that `backchannel_logout_session_required` clients get it,
 * §2.2); never a `nonce` (§2.4, so that it cannot be used as an ID token). Signed with the alg the
 * client registered for its ID tokens.
 */
export function logoutTokenPlan(
  config: { issuer: string; pairwiseSubjectKey: () => Buffer },
  client: Pick<
    ClientView,
    'clientId' | 'idTokenSignedResponseAlg' | 'subjectType' | 'redirectUris' | 'sectorIdentifierUri'
  >,
  session: { sid: string; sub: string },
  issue: { jti: string; now: Date },
): { alg: IdTokenSigningAlg; claims: LogoutTokenClaims } {
  const iat = Math.floor(issue.now.getTime() / 1000);
  return {
    alg: idTokenAlgOf(client),
    claims: {
      iss: config.issuer,
      sub: subjectFor(session.sub, client, config.pairwiseSubjectKey),
      aud: client.clientId,
      iat,
      exp: iat + LOGOUT_TOKEN_TTL_SECONDS,
      jti: issue.jti,
      sid: session.sid,
      events: { [BACKCHANNEL_LOGOUT_EVENT]: {} },
    },
  };
}
