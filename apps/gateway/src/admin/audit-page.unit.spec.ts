import { createHash } from 'node:crypto';
import { AUDIT_PAGE_CSP, renderTimeline, timelineEntry } from './audit-page.js';

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

  it('escapes every value it shows', () => {
    const html = renderTimeline({
      title: 'Client <script>alert(1)</script>',
      facts: [['name', '"><img src=x onerror=alert(1)>']],
      entries: [timelineEntry(event('ClientRegistered', { clientId: 'c1', clientName: '<b>x</b>' }))],
    });
    expect(html).not.toMatch(/<script|<img|<b>/);
    expect(html).toContain('Client &lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('&quot;&gt;&lt;img src=x onerror=alert(1)&gt;');
  });

  it('allows its one inline style by hash, and nothing else', () => {
    const html = renderTimeline({ title: 't', facts: [], entries: [] });
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
});
