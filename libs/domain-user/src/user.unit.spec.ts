import { eventsOrThrow } from '#lib/decider';
import { stateAfter } from '../../testing/src/decider-specification.js';
import {
  checkPassword,
  checkUsername,
  decideUser as decideUserDecision,
  evolveUser,
  initialUserState,
  sessionStillValid,
  type UserCommand,
  usernameStreamId,
} from './user.js';
import { verify as argon2Verify } from '@node-rs/argon2';
import { type Argon2Verify, hashPassword, verifyPassword } from './password.js';
import { userGrantsProjection, usersProjection } from './users.projection.js';
import { recordEvents } from '../../testing/src/decider-specification.js';

/** The decision's events, or its refusal thrown (as the decider answered before refusals were data). */
const decideUser = (...args: Parameters<typeof decideUserDecision>) =>
  eventsOrThrow(decideUserDecision(...args));

const decider = { decide: decideUser, evolve: evolveUser, initialState: initialUserState };
const t0 = new Date('2030-01-01T00:00:00Z');
const t1 = new Date('2030-01-01T01:00:00Z');
const create: UserCommand = {
  type: 'CreateUser',
  sub: 's1',
  username: 'alice',
  passwordHash: '$argon2id$h1',
  now: t0,
};

describe('resource owners (issue 4; checklist decision 15)', () => {
  it('a user is created once; the username index stream ignores case', () => {
    const events = decideUser(create, initialUserState());
    expect(events).toEqual([
      {
        type: 'UserCreated',
        data: { sub: 's1', username: 'alice', passwordHash: '$argon2id$h1', createdAt: t0.toISOString() },
      },
    ]);
    expect(() => decideUser(create, stateAfter(decider, events))).toThrow(/already exists/);
    const indexKey = Buffer.alloc(32, 7);
    expect(usernameStreamId(indexKey, 'Alice')).toBe(usernameStreamId(indexKey, 'alice'));
    expect(usernameStreamId(indexKey, 'alice')).not.toContain(Buffer.from('alice').toString('base64url'));
    expect(usernameStreamId(Buffer.alloc(32, 8), 'alice')).not.toBe(usernameStreamId(indexKey, 'alice'));
  });

  it('RT-17: a new password or disabling ends earlier sessions; enabling does not revive them', () => {
    const created = decideUser(create, initialUserState());
    let state = stateAfter(decider, created);
    expect(sessionStillValid(state, t0.getTime() + 1)).toBe(true);
    const changed = decideUser({ type: 'ChangePassword', passwordHash: '$argon2id$h2', now: t1 }, state);
    state = stateAfter(decider, [...created, ...changed]);
    expect(sessionStillValid(state, t0.getTime() + 1)).toBe(false);
    expect(sessionStillValid(state, t1.getTime())).toBe(true);
    const disabled = decideUser({ type: 'DisableUser', now: new Date(t1.getTime() + 10) }, state);
    state = stateAfter(decider, [...created, ...changed, ...disabled]);
    expect(state.status).toBe('disabled');
    expect(sessionStillValid(state, t1.getTime() + 20)).toBe(false);
    expect(decideUser({ type: 'DisableUser', now: t1 }, state)).toEqual([]);
    const enabled = decideUser({ type: 'EnableUser', now: t1 }, state);
    state = stateAfter(decider, [...created, ...changed, ...disabled, ...enabled]);
    expect(state.status).toBe('active');
    expect(sessionStillValid(state, t1.getTime() + 1)).toBe(false);
  });

  it('logins are recorded; a disabled user cannot succeed; unknown users cannot be changed', () => {
    const created = decideUser(create, initialUserState());
    const state = stateAfter(decider, created);
    expect(decideUser({ type: 'RecordLogin', outcome: 'success', clientId: 'c1', now: t1 }, state)).toEqual([
      {
        type: 'UserAuthenticated',
        data: { sub: 's1', username: 'alice', at: t1.toISOString(), clientId: 'c1' },
      },
    ]);
    expect(decideUser({ type: 'RecordLogin', outcome: 'wrong_password', now: t1 }, state)[0]!.type).toBe(
      'UserLoginFailed',
    );
    expect(() => decideUser({ type: 'DisableUser', now: t1 }, initialUserState())).toThrow(/no such user/);
  });

  it('usernames and passwords are checked', () => {
    expect(() => checkUsername('a b')).toThrow();
    expect(() => checkUsername('<x>')).toThrow();
    expect(() => checkUsername('x'.repeat(65))).toThrow();
    expect(checkUsername('alice.smith@example')).toBe('alice.smith@example');
    expect(() => checkPassword('short')).toThrow();
    expect(() => checkPassword('x'.repeat(1025))).toThrow();
    expect(checkPassword('long enough')).toBe('long enough');
  });

  it('passwords are argon2id hashes; an unknown user is verified against a dummy hash', async () => {
    const hash = await hashPassword('correct horse');
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    await expect(verifyPassword(hash, 'correct horse')).resolves.toBe(true);
    await expect(verifyPassword(hash, 'wrong horse')).resolves.toBe(false);
    await expect(verifyPassword(null, 'correct horse')).resolves.toBe(false);
    await expect(verifyPassword('not a hash', 'x')).resolves.toBe(false);
  });

  it('UI-15: an unknown user costs exactly the argon2id verification a known one does', async () => {
    // Counted, not timed: one verification each, against hashes of the same algorithm, cost,
    // salt length and output length (the work argon2 does depends on nothing else).
    const verified: string[] = [];
    const counting: Argon2Verify = (passwordHash, password) => {
      verified.push(passwordHash);
      return argon2Verify(passwordHash, password);
    };
    const known = await hashPassword('correct horse');
    await expect(verifyPassword(known, 'wrong horse', counting)).resolves.toBe(false);
    await expect(verifyPassword(null, 'wrong horse', counting)).resolves.toBe(false);
    await expect(verifyPassword(null, 'dummy password for unknown users', counting)).resolves.toBe(false);
    expect(verified).toHaveLength(3);
    const shape = (phc: string) => {
      const [, alg, version, params, salt, hash] = phc.split('$');
      return { alg, version, params, salt: salt!.length, hash: hash!.length };
    };
    expect(shape(verified[1]!)).toEqual(shape(known));
    expect(verified[2]).toBe(verified[1]);
  });
});

describe('user read models', () => {
  const fold = <Row>(
    p: { keyOf: (e: never) => string | null; evolve: (r: Row | null, e: never) => Row | null },
    events: never[],
  ) => {
    const rows = new Map<string, Row | null>();
    for (const e of events) {
      const key = p.keyOf(e);
      if (key === null) continue;
      rows.set(key, p.evolve(rows.get(key) ?? null, e));
    }
    return rows;
  };

  it('users: status follows disable/enable; no password hash in the row', () => {
    const events = recordEvents([
      ...decideUser(create, initialUserState()),
      { type: 'UserDisabled', data: { sub: 's1', disabledAt: t1.toISOString() } },
    ]) as never[];
    const row = fold(usersProjection as never, events).get('s1');
    expect(row).toEqual({ sub: 's1', username: 'alice', status: 'disabled', createdAt: t0.toISOString() });
  });

  it('user-grants: consents per client and the grants issued to the user', () => {
    const events = recordEvents([
      { type: 'ConsentGranted', data: { sub: 's1', clientId: 'c1', scope: ['read'], grantedAt: 'x' } },
      { type: 'ConsentGranted', data: { sub: 's1', clientId: 'c2', scope: ['write'], grantedAt: 'y' } },
      { type: 'AuthorizationCodeIssued', data: { sub: 's1', clientId: 'c1', grantId: 'g1' } },
      { type: 'ConsentRevoked', data: { sub: 's1', clientId: 'c2', revokedAt: 'z', revokedBy: 'admin' } },
      { type: 'GrantRevoked', data: { grantId: 'g1' } },
    ]) as never[];
    expect(fold(userGrantsProjection as never, events).get('s1')).toEqual({
      sub: 's1',
      consents: { c1: { scope: ['read'], grantedAt: 'x' } },
      grants: [{ grantId: 'g1', clientId: 'c1' }],
    });
  });
});
