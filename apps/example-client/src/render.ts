import { decodeJwt, decodeProtectedHeader } from 'jose';
import type { Session, Step } from './choreography.js';
import type { Exchange } from './recorder.js';

const esc = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

function pretty(body: string): string {
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
}

function decoded(token: string): string {
  try {
    const header = decodeProtectedHeader(token);
    const claims = decodeJwt(token);
    const times = (['iat', 'exp'] as const)
      .filter((k) => typeof claims[k] === 'number')
      .map((k) => `${k}: ${new Date(claims[k]! * 1000).toISOString()}`)
      .join(', ');
    return `<pre class="jwt">${esc(JSON.stringify(header, null, 2))}\n.\n${esc(JSON.stringify(claims, null, 2))}</pre><p class="note">${esc(times)} · signature checked by the resource server, not here</p>`;
  } catch {
    return `<pre>${esc(token)}</pre><p class="note">opaque: only the authorization server can read it</p>`;
  }
}

function exchange(x: Exchange): string {
  const req = x.request;
  const head = [`${req.method} ${req.url}`, ...req.headers.map(([k, v]) => `${k}: ${v}`)].join('\n');
  const res =
    'error' in x.response
      ? `(no response: ${x.response.error})`
      : [
          `HTTP ${x.response.status}`,
          ...x.response.headers.map(([k, v]) => `${k}: ${v}`),
          '',
          pretty(x.response.body),
        ].join('\n');
  return `<div class="x"><div><h4>request</h4><pre>${esc(head)}${req.body ? `\n\n${esc(req.body)}` : ''}</pre></div><div><h4>response</h4><pre>${esc(res)}</pre></div></div>`;
}

function step(s: Step, n: number, last: boolean): string {
  return `<details class="step ${s.ok ? 'ok' : 'fail'}"${last ? ' open' : ''}>
<summary><b>${n}. ${esc(s.title)}</b> · <span class="outcome"${last ? ' id="last-outcome"' : ''}>${esc(s.outcome)}</span></summary>
<p>${esc(s.explain)}</p>
${s.browser ? `<h4>browser</h4><pre>${esc(s.browser)}</pre>` : ''}
${s.exchanges.map(exchange).join('\n')}
</details>`;
}

const button = (action: string, label: string, enabled = true) =>
  `<form method="post" action="${action}"><button type="submit"${enabled ? '' : ' disabled'}>${esc(label)}</button></form>`;

export function page(
  session: Session,
  info: { issuer: string; resourceServer: string; clientId: string },
): string {
  const t = session.tokens;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Example App</title>
<style>
body{font:15px/1.45 system-ui,sans-serif;max-width:1100px;margin:1.5em auto;padding:0 1em;color:#222}
pre{background:#f5f5f5;padding:.6em;overflow:auto;white-space:pre-wrap;word-break:break-all;font-size:12px;margin:.2em 0}
.actions{display:flex;flex-wrap:wrap;gap:.5em;margin:1em 0}.actions form{margin:0}
button,a.button{font:inherit;padding:.45em .9em;border:1px solid #345;border-radius:4px;background:#fff;color:#123;text-decoration:none;cursor:pointer}
a.button{background:#234;color:#fff}.x{display:grid;grid-template-columns:1fr 1fr;gap:.6em}
.step{border-left:4px solid #3a3;padding:.3em .8em;margin:.6em 0}.step.fail{border-color:#c33}
.note{color:#666;font-size:12px;margin:0}h4{margin:.4em 0 0;font-size:12px;color:#555}
.tokens{display:grid;grid-template-columns:1fr 1fr;gap:1em}
@media (max-width:40rem){.x,.tokens{grid-template-columns:1fr}}
</style></head><body>
<h1>Example App</h1>
<p>An OAuth client (<code>${esc(info.clientId)}</code>) that asks <b>Authorise Company</b> (<code>${esc(info.issuer)}</code>)
for permission to read your email address at the resource server (<code>${esc(info.resourceServer)}</code>).
Every step below shows the HTTP it took.</p>
<div class="actions">
<a class="button" id="sign-in" href="/login">Sign in with Authorise Company</a>
${button('/call', 'Call the resource server', Boolean(t))}
${button('/refresh', 'Refresh the tokens', Boolean(t?.refreshToken))}
${button('/revoke/access', 'Revoke the access token', Boolean(t))}
${button('/revoke/refresh', 'Revoke the refresh token', Boolean(t?.refreshToken))}
${button('/client-credentials', 'Client credentials call')}
${button('/sign-out', 'Sign out', Boolean(session.idToken))}
${button('/reset', 'Start over')}
</div>
${
  t
    ? `<h2>Tokens</h2><div class="tokens"><div><h3>access token${t.scope ? ` (scope "${esc(t.scope)}")` : ''}</h3>${decoded(t.accessToken)}</div>
<div><h3>refresh token</h3>${t.refreshToken ? decoded(t.refreshToken) : '<p>none</p>'}</div></div>`
    : '<p id="signed-out">Not signed in.</p>'
}
${
  session.idToken
    ? `<h2>Signed in: the ID token</h2><p>OpenID Connect Core 1.0 §2: who signed in, when and how, validated here (signature against the issuer's jwks_uri, iss, aud, exp, nonce).</p>
<pre id="id-token-claims">${esc(JSON.stringify(session.idToken.claims, null, 2))}</pre>`
    : ''
}
${session.clientCredentialsToken ? `<h2>Client credentials token</h2>${decoded(session.clientCredentialsToken)}` : ''}
<h2>The choreography so far</h2>
${session.steps.length === 0 ? '<p>Nothing yet: start with “Sign in”.</p>' : session.steps.map((s, i) => step(s, i + 1, i === session.steps.length - 1)).join('\n')}
</body></html>`;
}
