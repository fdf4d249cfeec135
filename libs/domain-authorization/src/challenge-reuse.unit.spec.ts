import { ChallengeReuseTracker } from './challenge-reuse.js';

describe('ChallengeReuseTracker (RFC 9700 §2.1.1)', () => {
  it('PKCE-A09: a code_challenge seen again within the window is reported, with its count and clients', () => {
    const t = new ChallengeReuseTracker(60_000, 10);
    expect(t.observe('c1', 'app', 0)).toEqual({ reused: false, count: 1, clientIds: ['app'] });
    expect(t.observe('c2', 'app', 1)).toMatchObject({ reused: false });
    expect(t.observe('c1', 'app', 2)).toEqual({ reused: true, count: 2, clientIds: ['app'] });
    expect(t.observe('c1', 'other', 3)).toEqual({ reused: true, count: 3, clientIds: ['app', 'other'] });
  });

  it('forgets a challenge after the window', () => {
    const t = new ChallengeReuseTracker(60_000, 10);
    t.observe('c1', 'app', 0);
    expect(t.observe('c1', 'app', 60_000)).toMatchObject({ reused: false, count: 1 });
  });

  it('stays within its capacity, forgetting the least recently seen first', () => {
    const t = new ChallengeReuseTracker(60_000, 2);
    t.observe('a', 'x', 0);
    t.observe('b', 'x', 1);
    t.observe('a', 'x', 2); // a is now the most recent
    t.observe('c', 'x', 3); // evicts b
    expect(t.observe('b', 'x', 4)).toMatchObject({ reused: false });
    expect(t.observe('c', 'x', 5)).toMatchObject({ reused: true });
  });
});
