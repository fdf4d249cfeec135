import { createHash } from 'node:crypto';
import type { BrandConfig } from '#lib/config';
import type { FrontChannelResult } from '#lib/contracts';

/**
 * The server-rendered pages of the authorization endpoint: login, consent, account, error. No
 * script; no external asset but the configured logo; one inline style allowed by its hash; every
 * value HTML-escaped (RFC 6749 §10.14, OAuth 2.1 §7.11); labels, a visible focus ring and a
 * phone-width layout. The product name, logo and primary colour come from the configuration.
 */
const STYLE = (primary: string) => `
*{box-sizing:border-box}
body{font:16px/1.5 system-ui,sans-serif;margin:0;padding:1rem;color:#1b1f24;background:#f6f8fa}
main{max-width:26rem;margin:2rem auto;padding:1.5rem;background:#fff;border:1px solid #d0d7de;border-radius:8px}
h1{font-size:1.35rem;margin:0 0 1rem;overflow-wrap:anywhere}
p{margin:.5rem 0 1rem;overflow-wrap:anywhere}
label{display:block;font-weight:600;margin:.75rem 0 .25rem}
input[type=text],input[type=password]{width:100%;padding:.6rem;font:inherit;border:1px solid #8c959f;border-radius:6px}
.actions{display:flex;gap:.75rem;margin-top:1.25rem;flex-wrap:wrap}
button{font:inherit;padding:.6rem 1.2rem;border-radius:6px;border:1px solid #1f2328;background:#fff;color:#1f2328;cursor:pointer;min-height:2.75rem}
button.primary{background:${primary};border-color:${primary};color:#fff}
.brand{display:flex;align-items:center;gap:.6rem;margin:0 0 1rem;font-weight:600;color:#57606a;overflow-wrap:anywhere}
.brand img{max-height:2.5rem;max-width:10rem}
:focus-visible{outline:3px solid #bf8700;outline-offset:2px}
.error{padding:.6rem .8rem;background:#ffebe9;border:1px solid #cf222e;border-radius:6px;color:#82071e}
ul.scopes{padding-left:1.2rem}ul.scopes li{margin:.3rem 0}
.scope{font-family:ui-monospace,monospace;color:#57606a;font-size:.85rem}
.who{color:#57606a;font-size:.9rem}
h2{font-size:1.1rem;margin:1.25rem 0 .5rem}
ul.consents{list-style:none;padding:0;margin:0}ul.consents li{padding:.75rem 0;border-top:1px solid #d0d7de;overflow-wrap:anywhere}ul.consents p{margin:.25rem 0 .5rem}
`;
/** What the pages show of the server, and what their CSP must allow for it. */
export interface PageBrand {
  name: string;
  logoUrl: string | undefined;
  style: string;
  /** CSP source of the inline style: its hash. */
  styleSource: string;
  /** CSP img-src: 'self', and the logo's origin (an https logo) or data: (a data: logo). */
  imgSource: string;
}

export function pageBrand(config: BrandConfig): PageBrand {
  const style = STYLE(config.brandPrimaryColor);
  const logo = config.brandLogoUrl;
  const logoSource =
    logo === undefined ? '' : logo.startsWith('data:') ? ' data:' : ` ${new URL(logo).origin}`;
  return {
    name: config.brandProductName,
    logoUrl: logo,
    style,
    styleSource: `'sha256-${createHash('sha256').update(style).digest('base64')}'`,
    imgSource: `'self'${logoSource}`,
  };
}

/** RFC 9700 §4.16, RFC 6749 §10.13: no framing, no script; forms post to us (and may redirect onwards). */
export function pageCsp(brand: PageBrand, formTargets: string[] = []): string {
  const safe = formTargets.filter(
    (t) => /^([a-z][a-z0-9+.-]*:(\/\/[A-Za-z0-9.:[\]-]+)?|'none')$/i.test(t) && t !== "'none'",
  );
  return [
    "default-src 'none'",
    "script-src 'none'",
    `style-src ${brand.styleSource}`,
    `img-src ${brand.imgSource}`,
    "base-uri 'none'",
    `form-action 'self'${safe.map((t) => ` ${t}`).join('')}`,
    "frame-ancestors 'none'",
  ].join('; ');
}

export const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );

/** A BCP 47 tag (RFC 5646 §2.1) for html lang (OpenID Connect Core §3.1.2.1 ui_locales), else en. */
const langOf = (lang: string | undefined) =>
  lang !== undefined && /^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$/.test(lang) ? lang : 'en';

function layout(brand: PageBrand, title: string, body: string, lang?: string): string {
  const logo = brand.logoUrl ? `<img src="${escapeHtml(brand.logoUrl)}" alt="">` : '';
  return `<!doctype html>
<html lang="${escapeHtml(langOf(lang))}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer"><title>${escapeHtml(`${title} · ${brand.name}`)}</title><style>${brand.style}</style></head>
<body><main><p class="brand">${logo}<span>${escapeHtml(brand.name)}</span></p>${body}</main></body></html>`;
}

const hidden = (name: string, value: string) =>
  `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`;

type Page<K extends FrontChannelResult['kind']> = Extract<FrontChannelResult, { kind: K }>;

export function loginPage(p: Page<'login'>, brand: PageBrand): string {
  const message = p.message
    ? `<p class="error" role="alert" id="login-error">${escapeHtml(p.message)}</p>`
    : '';
  const described = p.message ? ' aria-describedby="login-error"' : '';
  return layout(
    brand,
    'Sign in',
    `<h1>Sign in</h1>
${p.clientName ? `<p>to continue to <strong>${escapeHtml(p.clientName)}</strong></p>` : ''}${message}
<form method="post" action="/login">
${hidden('tx', p.tx)}${hidden('csrf', p.csrf)}
<label for="username">Username</label>
<input type="text" id="username" name="username" autocomplete="username" autocapitalize="none" spellcheck="false" required autofocus${described} value="${escapeHtml(p.username ?? '')}">
<label for="password">Password</label>
<input type="password" id="password" name="password" autocomplete="current-password" required${described}>
<div class="actions"><button type="submit" class="primary">Sign in</button>${
      p.clientName ? '<button type="submit" name="cancel" value="1" formnovalidate>Cancel</button>' : ''
    }</div>
</form>`,
    p.lang,
  );
}

function safeLink(uri: string | undefined): string {
  if (!uri) return '';
  // Only http(s) links; anything else is shown as text (OAuth 2.1 §7.11).
  if (/^https?:\/\/[\x21-\x7e]+$/.test(uri))
    return `<p><a href="${escapeHtml(uri)}" rel="noopener noreferrer">${escapeHtml(uri)}</a></p>`;
  return `<p>${escapeHtml(uri)}</p>`;
}

export function consentPage(p: Page<'consent'>, brand: PageBrand): string {
  const scopes = p.scopes
    .map((s) => `<li>${escapeHtml(s.description)} <span class="scope">(${escapeHtml(s.scope)})</span></li>`)
    .join('\n');
  return layout(
    brand,
    `Allow ${p.clientName}?`,
    `<h1><strong>${escapeHtml(p.clientName)}</strong> wants to access your account</h1>
${safeLink(p.clientUri)}<p class="who">Signed in as ${escapeHtml(p.username)}</p>
<p>If you allow it, ${escapeHtml(p.clientName)} will be able to:</p>
<ul class="scopes">${scopes || '<li>Use your account (no specific permission)</li>'}</ul>
<form method="post" action="/authorize/consent">
${hidden('tx', p.tx)}${hidden('csrf', p.csrf)}
<div class="actions"><button type="submit" class="primary" name="decision" value="allow">Allow</button>
<button type="submit" name="decision" value="deny">Deny</button></div>
</form>`,
    p.lang,
  );
}

export function accountPage(p: Page<'account'>, brand: PageBrand): string {
  const items = p.consents
    .map(
      (
        c,
      ) => `<li><strong>${escapeHtml(c.clientName)}</strong> <span class="scope">${escapeHtml(c.clientId)}</span>
<p>${c.scope.map((s) => `<span class="scope">${escapeHtml(s)}</span>`).join(' ')} <span class="who">since ${escapeHtml(c.grantedAt.slice(0, 10))}</span></p>
<form method="post" action="/account/revoke">${hidden('csrf', p.csrf)}${hidden('client_id', c.clientId)}
<button type="submit" aria-label="Revoke access of ${escapeHtml(c.clientName)}">Revoke</button></form></li>`,
    )
    .join('\n');
  return layout(
    brand,
    'Your account',
    `<h1>Your account</h1><p class="who">Signed in as ${escapeHtml(p.username)}</p>
<h2>Applications you allowed</h2>
${p.consents.length ? `<ul class="consents">${items}</ul>` : '<p>No application has access to your account.</p>'}
${sessionsSection(p)}`,
  );
}

/** The user's sessions, each with its sign-out form, and one to sign out everywhere. */
function sessionsSection(p: Page<'account'>): string {
  const sessions = p.sessions ?? [];
  const items = sessions
    .map((s) => {
      const what = `${s.userAgent.browser} on ${s.userAgent.os}`;
      return `<li class="session"><strong>${escapeHtml(what)}</strong>${s.current ? ' <span class="scope">this browser</span>' : ''}
<p><span class="who">signed in ${escapeHtml(s.startedAt.slice(0, 16).replace('T', ' '))} UTC, last used ${escapeHtml(s.lastUsedAt.slice(0, 16).replace('T', ' '))} UTC</span></p>
<form method="post" action="/account/sessions/end">${hidden('csrf', p.csrf)}${hidden('sid', s.sid)}
<button type="submit" aria-label="Sign out ${escapeHtml(what)}">Sign out</button></form></li>`;
    })
    .join('\n');
  return `<h2>Where you are signed in</h2>
<ul class="sessions">${items}</ul>
<form method="post" action="/account/sessions/end">${hidden('csrf', p.csrf)}${hidden('all', '1')}
<button type="submit">Sign out everywhere</button></form>`;
}

/** RP-Initiated Logout 1.0 §2: the user confirms the sign-out (the request alone is not trusted). */
export function logoutConfirmPage(p: Page<'logout-confirm'>, brand: PageBrand): string {
  return layout(
    brand,
    'Sign out',
    `<h1>Sign out?</h1><p class="who">Signed in as ${escapeHtml(p.username)}</p>
<form method="post" action="/logout/confirm">${hidden('csrf', p.csrf)}${continueWith(p.continueWith)}
<div class="actions"><button type="submit" class="primary">Sign out</button></div>
</form>`,
    p.lang,
  );
}

function continueWith(c: Page<'logout-confirm'>['continueWith']): string {
  if (c === undefined) return '';
  return (
    hidden('client_id', c.clientId) +
    hidden('post_logout_redirect_uri', c.postLogoutRedirectUri) +
    (c.state !== undefined ? hidden('state', c.state) : '')
  );
}

export function loggedOutPage(p: Page<'logged-out'>, brand: PageBrand): string {
  return layout(brand, 'Signed out', '<h1>You are signed out</h1>', p.lang);
}

export function errorPage(p: Page<'error-page'>, brand: PageBrand): string {
  return layout(
    brand,
    'Request refused',
    `<h1>This request cannot be completed</h1>
<p class="error" role="alert"><strong>${escapeHtml(p.error)}</strong>: ${escapeHtml(p.description)}</p>
<p>Go back to the application and try again.</p>`,
  );
}
