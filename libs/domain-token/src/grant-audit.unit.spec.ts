import { InMemoryEventStore } from '#lib/event-store';
import { Keyset } from '#lib/keysets';
import { grantAsOfView, grantHistoryCriteria, userHistoryCriteria } from './grant-audit.js';
import { ScriptedGrant, scriptGrantLife } from './testing/grant-life.js';

const keys = new Keyset([{ kid: 'h1', key: Buffer.alloc(32, 1) }]);
const owner = {
  clientId: 'c1',
  sub: 'u-1',
  username: 'alice',
  scope: ['read'],
  aud: ['https://api.test'],
  redirectUri: 'https://c1.test/cb',
};

describe('grant as of an instant (audit API)', () => {
  it('follows the life: none, code_issued, active (generation by rotation), revoked; no hash is shown', async () => {
    const store = new InMemoryEventStore();
    const grant = await scriptGrantLife(new ScriptedGrant(store, keys, owner), 0);
    const events = (await store.readAll(0, 100)).filter((e) => e.streamId === `grant-${grant.grantId}`);
    const views = [];
    expect(grantAsOfView([], new Date())).toBeNull();
    for (let i = 1; i <= events.length; i++) {
      views.push(grantAsOfView(events.slice(0, i), new Date())!);
    }
    expect(views.map((v) => v.status)).toEqual([
      'code_issued',
      'active',
      'active',
      'active',
      'active',
      'active',
      'active',
      'revoked',
    ]);
    expect(views[2]!.refresh?.generation).toBe(1);
    expect(views[5]!.refresh?.generation).toBe(4);
    expect(views[7]).toMatchObject({
      grantId: grant.grantId,
      clientId: 'c1',
      sub: 'u-1',
      username: 'alice',
      revocationReason: 'refresh_token_reuse',
      accessTokenJtis: grant.accessTokens.map((a) => a.jti),
    });
    // No member of any view is a hash (by name: the values hold random ids and jtis, where a search
    // for the word would match by chance about once in a thousand runs).
    const members: string[] = [];
    JSON.stringify(views, (key: string, value: unknown) => (members.push(key), value));
    expect(members.filter((m) => /hash/i.test(m))).toEqual([]);
  });

  it('an unredeemed code past its expiry reads as expired', async () => {
    const store = new InMemoryEventStore();
    const grant = new ScriptedGrant(store, keys, owner);
    await grant.issueCode();
    const events = await store.readAll(0, 10);
    expect(grantAsOfView(events, new Date())!.status).toBe('code_issued');
    expect(grantAsOfView(events, new Date(Date.now() + 61_000))!.status).toBe('expired');
  });
});

describe('history criteria', () => {
  it("a grant's: its stream, the streams its events start, its owner's consent events", () => {
    expect(grantHistoryCriteria('G', { sub: 'u', clientId: 'c' })).toEqual({
      streamIds: ['grant-G'],
      streamsNamedBy: {
        field: 'grantId',
        value: 'G',
        streams: [
          { type: 'AuthorizationCodeIssued', prefix: 'grant-', idField: 'grantId' },
          { type: 'AccessTokenIssued', prefix: 'access-token-', idField: 'jti' },
        ],
      },
      dataAll: { fields: { sub: 'u', clientId: 'c' }, excludeStreamPrefixes: ['grant-', 'access-token-'] },
    });
  });

  it("a user's: events naming the sub, the user's stream, the grant and token streams those start", () => {
    expect(userHistoryCriteria('u')).toMatchObject({
      streamIds: ['user-u'],
      dataEquals: { field: 'sub', value: 'u' },
      streamsNamedBy: { field: 'sub', value: 'u' },
    });
  });
});
