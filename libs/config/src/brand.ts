import { z } from 'zod';
import { ISSUER, settings } from './env.js';

const DATA_IMAGE = /^data:image\/(png|jpeg|gif|webp|svg\+xml);base64,[A-Za-z0-9+/]+={0,2}$/;

/**
 * BRAND_LOGO_URL: an https URL (the pages' CSP then allows images from that origin alone) or a
 * data: URL of a PNG, JPEG, GIF, WebP or SVG image (at most 64 KiB).
 */
const httpsUrl = z
  .url({ protocol: /^https$/ })
  .transform((s) => new URL(s))
  .refine((url) => !url.username && !url.password);

const logo = z
  .string()
  .max(64 * 1024, 'must be at most 64 KiB')
  .refine((s) => DATA_IMAGE.test(s) || httpsUrl.safeParse(s).success, {
    error: ({ input }) =>
      String(input).startsWith('data:')
        ? 'as a data: URL must be a base64 PNG, JPEG, GIF, WebP or SVG image (data:image/png;base64,…)'
        : URL.canParse(String(input))
          ? 'must be an https URL without credentials, or a data: URL'
          : `must be an https or data: URL, got "${String(input)}"`,
  })
  .transform((s) => (s.startsWith('data:') ? s : new URL(s).href));

/** How the login, consent, account and error pages present the server. */
export const brandSettings = settings({
  issuer: ISSUER,
  /**
   * BRAND_PRODUCT_NAME: the name the pages show (in the heading and the title). Default: the
   * issuer's host. At most 80 characters.
   */
  brandProductName: [
    'BRAND_PRODUCT_NAME',
    z
      .string()
      .trim()
      .max(80, 'must be at most 80 characters')
      // Control characters have no place in a page title (and would be a way to forge lines elsewhere).
      .refine((s) => !/\p{Cc}/u.test(s), 'must not contain control characters')
      .optional(),
  ],
  /** BRAND_LOGO_URL: a logo shown above the heading (see `logo`). Unset: no logo. */
  brandLogoUrl: ['BRAND_LOGO_URL', logo.optional()],
  /** BRAND_PRIMARY_COLOR: the colour of the primary buttons, `#rrggbb`. Default `#1f6feb`. */
  brandPrimaryColor: [
    'BRAND_PRIMARY_COLOR',
    z
      .string()
      .regex(/^#[0-9a-fA-F]{6}$/, { error: (iss) => `must be a colour #rrggbb, got "${String(iss.input)}"` })
      .transform((s) => s.toLowerCase())
      .default('#1f6feb'),
  ],
}).transform(({ issuer, ...brand }) => ({
  ...brand,
  brandProductName: brand.brandProductName || new URL(issuer).host,
}));

export type BrandConfig = z.output<typeof brandSettings>;
