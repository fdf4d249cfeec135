import { createHash } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { installViews } from '#lib/http-edge';
import {
  ADMIN_VIEWS_DIR,
  AUDIT_PAGE_CSP,
  timelineEntry,
  type TimelinePage,
  timelineView,
} from './audit-page.js';

let fastify: FastifyInstance;
beforeAll(async () => {
  fastify = Fastify();
  installViews(fastify, ADMIN_VIEWS_DIR);
  await fastify.ready();
});
afterAll(() => fastify.close());

/** The page as the admin listener renders it, through @fastify/view and the template. */
function renderTimeline(page: TimelinePage): Promise<string> {
  const { template, data } = timelineView(page);
  return fastify.view(template, data);
}

describe('audit timeline page (server-rendered, CSP)', () => {
  const event = (type: string, data: Record<string, unknown>, position = 1) => ({
    position,
    streamId: 'access-token-j1',
    version: position,
    type,
    schemaVersion: 1,
    recordedAt: '2026-11-25T17:00:00.000Z',
    data,
    metadata: { actor: 'client:c1' },
  });

  it('escapes every value it shows', async () => {
    const html = await renderTimeline({
      title: 'Client <script>alert(1)</script>',
      facts: [['name', '"><img src=x onerror=alert(1)>']],
      entries: [timelineEntry(event('ClientRegistered', { clientId: 'c1', clientName: '<b>x</b>' }))],
    });
    expect(html).not.toMatch(/<script|<img|<b>/);
    expect(html).toContain('Client &lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('&quot;&gt;&lt;img src=x onerror=alert(1)&gt;');
  });

  it('allows its one inline style by hash, and nothing else', async () => {
    const html = await renderTimeline({ title: 't', facts: [], entries: [] });
    const style = /<style>([\s\S]*?)<\/style>/.exec(html)![1]!;
    const hash = createHash('sha256').update(style).digest('base64');
    expect(AUDIT_PAGE_CSP).toContain(`style-src 'sha256-${hash}'`);
    expect(AUDIT_PAGE_CSP).toContain("default-src 'none'");
    expect(html).not.toMatch(/<script|https?:\/\//);
  });

  it('tells who did what, when and for which client', () => {
    const issued = timelineEntry(
      event('AccessTokenIssued', {
        jti: 'j1',
        clientId: 'c1',
        scope: ['read'],
        grantType: 'client_credentials',
        sub: 'c1',
        exp: 0,
      }),
    );
    expect(issued).toMatchObject({
      kind: 'start',
      what: 'Access token issued',
      who: 'client:c1',
      client: 'c1',
    });
    const revoked = timelineEntry(
      event('AccessTokenRevoked', { jti: 'j1', revokedBy: 'c1', reason: 'revocation_request' }, 2),
    );
    expect(revoked).toMatchObject({ kind: 'end', what: 'Access token revoked', position: 2 });
    expect(revoked.detail).toContain('by client c1');
  });

  it("reads a grant's life: consent, code, rotation, reuse, revocation, each with who and which client", () => {
    const entries = [
      event('ConsentGranted', { sub: 'u-1', clientId: 'c1', scope: ['read'] }, 1),
      event(
        'AuthorizationCodeIssued',
        {
          grantId: 'g',
          clientId: 'c1',
          sub: 'u-1',
          username: 'alice',
          scope: ['read'],
          deliveredTo: 'https://c1.test/cb',
          codeChallenge: 'x',
          codeHash: 'SECRET-HASH',
        },
        2,
      ),
      event('AuthorizationCodeRedeemed', { grantId: 'g', codeHash: 'SECRET-HASH', accessTokenJti: 'j1' }, 3),
      event(
        'RefreshTokenRotated',
        {
          grantId: 'g',
          generation: 2,
          scope: ['read'],
          accessTokenJti: 'j2',
          tokenHash: 'SECRET-HASH',
          previousHash: 'SECRET-HASH',
          withinGrace: false,
        },
        4,
      ),
      event(
        'RefreshTokenReuseDetected',
        { grantId: 'g', generation: 2, clientId: 'c1', tokenHash: 'SECRET-HASH' },
        5,
      ),
      event('GrantRevoked', { grantId: 'g', reason: 'refresh_token_reuse', revokedBy: 'system:token' }, 6),
    ].map(timelineEntry);
    expect(entries.map((e) => e.what)).toEqual([
      'Consent granted',
      'Authorization code issued',
      'Authorization code redeemed',
      'Refresh token rotated',
      'Refresh token reuse detected',
      'Grant revoked',
    ]);
    expect(entries.map((e) => e.kind)).toEqual(['start', 'start', 'change', 'change', 'end', 'end']);
    expect(entries[1]!.detail).toContain('alice');
    expect(entries[3]!.detail).toContain('generation 2');
    expect(entries[5]!.detail).toContain('refresh_token_reuse');
    expect(entries.every((e) => e.who === 'client:c1')).toBe(true);
    expect(JSON.stringify(entries)).not.toContain('SECRET-HASH');
  });
});
