import { createHash } from 'node:crypto';
import type { BrandConfig } from '#lib/config';
import type { FrontChannelResult } from '#lib/contracts';

/**
 * The server-rendered pages of the authorization endpoint: login, consent, account, logout, error,
 * as templates in ../views rendered by @fastify/view (../http/views.ts). No script; no external
 * asset but the configured logo; one inline style allowed by its hash; every value HTML-escaped by
 * the template engine (RFC 6749 §10.14, OAuth 2.1 §7.11); labels, a visible focus ring and a
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

/** A BCP 47 tag (RFC 5646 §2.1) for html lang (OpenID Connect Core §3.1.2.1 ui_locales), else en. */
const langOf = (lang: string | undefined) =>
  lang !== undefined && /^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$/.test(lang) ? lang : 'en';

/** A page: its template in ../views and what the template shows (escaped there). */
export interface PageView {
  template: string;
  data: { brand: PageBrand; title: string; lang: string } & Record<string, unknown>;
}

type Page<K extends FrontChannelResult['kind']> = Extract<FrontChannelResult, { kind: K }>;
export type PageResult = Exclude<FrontChannelResult, { kind: 'redirect' }>;

export function pageView(result: PageResult, brand: PageBrand): PageView {
  const view = (template: string, title: string, lang: string | undefined, data: object): PageView => ({
    template,
    data: { ...data, brand: { ...brand }, title, lang: langOf(lang) },
  });
  switch (result.kind) {
    case 'login':
      return view('login', 'Sign in', result.lang, {
        tx: result.tx,
        csrf: result.csrf,
        clientName: result.clientName,
        message: result.message,
        username: result.username ?? '',
      });
    case 'consent':
      return view('consent', `Allow ${result.clientName}?`, result.lang, consentData(result));
    case 'account':
      return view('account', 'Your account', undefined, accountData(result));
    case 'logout-confirm':
      return view('logout-confirm', 'Sign out', result.lang, {
        csrf: result.csrf,
        username: result.username,
        continueWith: result.continueWith,
      });
    case 'logged-out':
      return view('logged-out', 'Signed out', result.lang, {});
    case 'error-page':
      return view('error', 'Request refused', undefined, {
        error: result.error,
        description: result.description,
      });
    default: {
      const unknown: never = result;
      throw new Error(`unknown page ${(unknown as { kind: string }).kind}`);
    }
  }
}

function consentData(p: Page<'consent'>) {
  // Only http(s) links; anything else is shown as text (OAuth 2.1 §7.11).
  const link = p.clientUri !== undefined && /^https?:\/\/[\x21-\x7e]+$/.test(p.clientUri);
  return {
    tx: p.tx,
    csrf: p.csrf,
    username: p.username,
    clientName: p.clientName,
    clientLink: link ? p.clientUri : undefined,
    clientUri: p.clientUri,
    scopes: p.scopes,
  };
}

function accountData(p: Page<'account'>) {
  const minute = (iso: string) => iso.slice(0, 16).replace('T', ' ');
  return {
    csrf: p.csrf,
    username: p.username,
    consents: p.consents.map((c) => ({ ...c, since: c.grantedAt.slice(0, 10) })),
    sessions: (p.sessions ?? []).map((s) => ({
      sid: s.sid,
      what: `${s.userAgent.browser} on ${s.userAgent.os}`,
      current: s.current,
      startedAt: minute(s.startedAt),
      lastUsedAt: minute(s.lastUsedAt),
    })),
  };
}
