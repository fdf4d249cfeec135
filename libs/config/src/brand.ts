import { ConfigError, type Env } from './env.js';

/** How the login, consent, account and error pages present the server. */
export interface BrandConfig {
  /**
   * BRAND_PRODUCT_NAME: the name the pages show (in the heading and the title). Default: the
   * issuer's host. At most 80 characters.
   */
  brandProductName: string;
  /**
   * BRAND_LOGO_URL: a logo shown above the heading: an https URL (the pages' CSP then allows
   * images from that origin alone) or a data: URL of a PNG, JPEG, GIF, WebP or SVG image (at most
   * 64 KiB). Unset: no logo.
   */
  brandLogoUrl: string | undefined;
  /** BRAND_PRIMARY_COLOR: the colour of the primary buttons, `#rrggbb`. Default `#1f6feb`. */
  brandPrimaryColor: string;
}

const COLOR = /^#[0-9a-fA-F]{6}$/;
const DATA_IMAGE = /^data:image\/(png|jpeg|gif|webp|svg\+xml);base64,[A-Za-z0-9+/]+={0,2}$/;
const MAX_LOGO_CHARS = 64 * 1024;

export function readBrandConfig(env: Env, issuer: string): BrandConfig {
  const name = (env.BRAND_PRODUCT_NAME ?? '').trim();
  if (name.length > 80) throw new ConfigError('BRAND_PRODUCT_NAME must be at most 80 characters');
  // Control characters have no place in a page title (and would be a way to forge lines elsewhere).
  if (/\p{Cc}/u.test(name)) throw new ConfigError('BRAND_PRODUCT_NAME must not contain control characters');
  const color = env.BRAND_PRIMARY_COLOR || '#1f6feb';
  if (!COLOR.test(color))
    throw new ConfigError(`BRAND_PRIMARY_COLOR must be a colour #rrggbb, got "${color}"`);
  return {
    brandProductName: name || new URL(issuer).host,
    brandLogoUrl: logoOf(env.BRAND_LOGO_URL),
    brandPrimaryColor: color.toLowerCase(),
  };
}

function logoOf(raw: string | undefined): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (raw.length > MAX_LOGO_CHARS) throw new ConfigError('BRAND_LOGO_URL must be at most 64 KiB');
  if (raw.startsWith('data:')) {
    if (!DATA_IMAGE.test(raw))
      throw new ConfigError(
        'BRAND_LOGO_URL as a data: URL must be a base64 PNG, JPEG, GIF, WebP or SVG image (data:image/png;base64,…)',
      );
    return raw;
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(`BRAND_LOGO_URL must be an https or data: URL, got "${raw}"`);
  }
  if (url.protocol !== 'https:' || url.username || url.password)
    throw new ConfigError('BRAND_LOGO_URL must be an https URL without credentials, or a data: URL');
  return url.href;
}
