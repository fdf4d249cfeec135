import { decodeJwt, decodeProtectedHeader } from 'jose';
import { fileURLToPath } from 'node:url';
import type { Session, Step } from './choreography.js';
import type { Exchange } from './recorder.js';

/** The page templates (apps/example-client/src/views, copied beside the build by scripts/copy-views.mjs). */
export const EXAMPLE_VIEWS_DIR = fileURLToPath(new URL('./views/', import.meta.url));

/** A token as the page shows it: a JWT decoded (header and claims), anything else as it is. */
export type TokenView = { jwt: true; text: string; times: string } | { jwt: false; text: string };

export interface StepView {
  n: number;
  title: string;
  explain: string;
  outcome: string;
  ok: boolean;
  last: boolean;
  browser: string | undefined;
  exchanges: { request: string; response: string }[];
}

/** What the `page` template is given: text only, every value escaped by Eta when it is written. */
export interface PageData {
  clientId: string;
  issuer: string;
  resourceServer: string;
  buttons: { action: string; label: string; enabled: boolean }[];
  tokens: { scope: string | undefined; access: TokenView; refresh: TokenView | undefined } | undefined;
  idTokenClaims: string | undefined;
  clientCredentials: TokenView | undefined;
  steps: StepView[];
}

function pretty(body: string): string {
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
}

// Only decoded for the learner to read: the resource server checks the signature (RFC 9068 §4).
function token(value: string): TokenView {
  try {
    const header = decodeProtectedHeader(value);
    const claims = decodeJwt(value);
    const times = (['iat', 'exp'] as const)
      .filter((k) => typeof claims[k] === 'number')
      .map((k) => `${k}: ${new Date(claims[k]! * 1000).toISOString()}`)
      .join(', ');
    return {
      jwt: true,
      text: `${JSON.stringify(header, null, 2)}\n.\n${JSON.stringify(claims, null, 2)}`,
      times,
    };
  } catch {
    return { jwt: false, text: value };
  }
}

function exchange(x: Exchange): { request: string; response: string } {
  const req = x.request;
  const head = [`${req.method} ${req.url}`, ...req.headers.map(([k, v]) => `${k}: ${v}`)].join('\n');
  const response =
    'error' in x.response
      ? `(no response: ${x.response.error})`
      : [
          `HTTP ${x.response.status}`,
          ...x.response.headers.map(([k, v]) => `${k}: ${v}`),
          '',
          pretty(x.response.body),
        ].join('\n');
  return { request: req.body ? `${head}\n\n${req.body}` : head, response };
}

function step(s: Step, i: number, all: Step[]): StepView {
  return {
    n: i + 1,
    title: s.title,
    explain: s.explain,
    outcome: s.outcome,
    ok: s.ok,
    last: i === all.length - 1,
    browser: s.browser || undefined,
    exchanges: s.exchanges.map(exchange),
  };
}

/** The Example App's one page: `page` in EXAMPLE_VIEWS_DIR, through @fastify/view. */
export function pageView(
  session: Session,
  info: { issuer: string; resourceServer: string; clientId: string },
): { template: string; data: PageData } {
  const t = session.tokens;
  const button = (action: string, label: string, enabled = true) => ({ action, label, enabled });
  return {
    template: 'page',
    data: {
      ...info,
      buttons: [
        button('/call', 'Call the resource server', Boolean(t)),
        button('/refresh', 'Refresh the tokens', Boolean(t?.refreshToken)),
        button('/revoke/access', 'Revoke the access token', Boolean(t)),
        button('/revoke/refresh', 'Revoke the refresh token', Boolean(t?.refreshToken)),
        button('/client-credentials', 'Client credentials call'),
        button('/sign-out', 'Sign out', Boolean(session.idToken)),
        button('/reset', 'Start over'),
      ],
      tokens: t && {
        scope: t.scope || undefined,
        access: token(t.accessToken),
        refresh: t.refreshToken ? token(t.refreshToken) : undefined,
      },
      idTokenClaims: session.idToken && JSON.stringify(session.idToken.claims, null, 2),
      clientCredentials: session.clientCredentialsToken ? token(session.clientCredentialsToken) : undefined,
      steps: session.steps.map(step),
    },
  };
}
