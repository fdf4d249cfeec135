import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { calculateJwkThumbprint, CompactSign } from 'jose';
import { CheckpointAuditor, type CheckpointSource } from './checkpoint-audit.js';
import {
  ChainDoesNotContinueError,
  type ChainPoint,
  type Checkpoint,
  CheckpointBuilder,
  checkpointFileName,
  CheckpointRejectedError,
  checkpointSigningKey,
  checkpointVerificationKey,
  fingerprint,
  generateCheckpointKey,
  readCheckpoint,
  signCheckpoint,
} from './checkpoints.js';
import { type ChainedEvent, eventHash, GENESIS_HASH } from './hash-chain.js';

const AT = new Date('2026-12-07T12:00:00.000Z');

/** A hash-chained log at the given positions (gaps allowed), data `{ n }` each. */
function chain(positions: number[], data: (p: number) => unknown = (p) => ({ n: p })): ChainedEvent[] {
  let prev = GENESIS_HASH;
  return positions.map((p) => {
    const event = {
      globalPosition: p,
      eventId: `e${p}-${randomUUID().slice(0, 4)}`,
      streamId: `token-${p}`,
      streamVersion: 1,
      type: 'AccessTokenIssued',
      schemaVersion: 1,
      data: data(p) as Record<string, unknown>,
      metadata: {},
      recordedAt: AT,
    };
    const hash = eventHash(prev, event);
    const chained = { ...event, prevHash: prev, hash };
    prev = hash;
    return chained;
  });
}

/** The same events, chain recomputed from the start (what an administrator with a script does). */
function recompute(events: ChainedEvent[]): ChainedEvent[] {
  let prev = GENESIS_HASH;
  return events.map((e) => {
    const hash = eventHash(prev, e);
    const next = { ...e, prevHash: prev, hash };
    prev = hash;
    return next;
  });
}

function checkpointsOf(events: ChainedEvent[], cuts: number[]): CheckpointSource[] {
  const out: CheckpointSource[] = [];
  let previous: ChainPoint | null = null;
  for (const cut of cuts) {
    const builder: CheckpointBuilder = new CheckpointBuilder(previous);
    for (const e of events)
      if (e.globalPosition > (previous?.position ?? 0) && e.globalPosition <= cut) builder.push(e);
    const c: Checkpoint | undefined = builder.checkpoints(AT)[0];
    out.push({ file: checkpointFileName(c!.position), checkpoint: c! });
    previous = { position: c!.position, hash: c!.hash };
  }
  return out;
}

function audit(sources: CheckpointSource[], live: ChainedEvent[]) {
  const auditor = new CheckpointAuditor(sources, sources.length);
  for (const e of live) auditor.push(e);
  return auditor.result();
}

describe('checkpoints of the hash chain: what is signed', () => {
  it('CKPT-10 a checkpoint holds the head, its predecessor and one fingerprint per event of the interval', () => {
    const events = chain([1, 2, 4, 7]);
    const builder = new CheckpointBuilder(null);
    events.forEach((e) => builder.push(e));
    const [c] = builder.checkpoints(AT);
    expect(c).toEqual({
      version: 1,
      position: 7,
      hash: events[3]!.hash,
      at: '2026-12-07T12:00:00.000Z',
      previous: null,
      count: 4,
      fingerprints: events.map((e) => Buffer.from(e.hash!, 'hex').subarray(0, 8).toString('base64')),
    });
    expect(fingerprint(events[0]!.hash!)).toHaveLength(12);
    expect(builder.checkpoints(AT)).toEqual([]);
    expect(checkpointFileName(7)).toBe('00000000000000000007.jws');
  });

  it('CKPT-11 a long interval is cut into checkpoints of at most maxEvents, each naming the one before', () => {
    const events = chain([1, 2, 3, 4, 5]);
    const builder = new CheckpointBuilder(null, 2);
    events.forEach((e) => builder.push(e));
    const made = builder.checkpoints(AT);
    expect(made.map((c) => [c.previous?.position ?? null, c.position, c.count])).toEqual(
      [
        [null, 2],
        [2, 4],
        [4, 5],
      ].map(([p, q]) => [p, q, q! - (p ?? 0)]),
    );
    expect(made[1]!.previous!.hash).toBe(made[0]!.hash);
  });

  it('CKPT-12 events after a checkpoint that do not link on from its hash are never signed', () => {
    const events = chain([1, 2, 3]);
    const recomputed = recompute(events.map((e, i) => (i === 0 ? { ...e, data: { n: 'x' } } : e)));
    const builder = new CheckpointBuilder({ position: 2, hash: events[1]!.hash! });
    expect(() => builder.push(recomputed[2]!)).toThrow(ChainDoesNotContinueError);
    const altered = new CheckpointBuilder({ position: 2, hash: events[1]!.hash! });
    expect(() => altered.push({ ...events[2]!, data: { n: 'y' } })).toThrow(/no longer matches its hash/);
  });
});

describe('checkpoints of the hash chain: the signature', () => {
  const events = chain([1, 2, 3]);
  const builder = new CheckpointBuilder(null);
  events.forEach((e) => builder.push(e));
  const [checkpoint] = builder.checkpoints(AT) as [Checkpoint];

  it('CKPT-13 signed as a compact JWS with EdDSA, kid the RFC 7638 thumbprint; read back with the public key', async () => {
    const generated = await generateCheckpointKey();
    const key = await checkpointSigningKey(JSON.stringify(generated.privateJwk));
    expect(key.kid).toBe(await calculateJwkThumbprint(generated.publicJwk, 'sha256'));
    expect(key.alg).toBe('EdDSA');
    const jws = await signCheckpoint(checkpoint, key);
    expect(jws.split('.')).toHaveLength(3);
    const header = JSON.parse(Buffer.from(jws.split('.')[0]!, 'base64url').toString());
    expect(header).toEqual({ alg: 'EdDSA', kid: key.kid, typ: 'authz-chain-checkpoint+jws' });
    const verification = await checkpointVerificationKey(JSON.stringify(generated.publicJwk));
    expect(await readCheckpoint(jws, verification)).toEqual(checkpoint);
    expect(
      await readCheckpoint(jws, await checkpointVerificationKey(JSON.stringify(generated.privateJwk))),
    ).toEqual(checkpoint);
  });

  it('CKPT-14 PEM keys (PKCS #8, SPKI) and P-256 (ES256) are taken; RSA and a public key to sign with are not', async () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const key = await checkpointSigningKey(ec.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString());
    expect(key.alg).toBe('ES256');
    const jws = await signCheckpoint(checkpoint, key);
    const pub = await checkpointVerificationKey(
      ec.publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    );
    expect(pub.kid).toBe(key.kid);
    expect((await readCheckpoint(jws, pub)).position).toBe(3);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
    await expect(
      checkpointSigningKey(rsa.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString()),
    ).rejects.toThrow(/Ed25519/);
    await expect(
      checkpointSigningKey(JSON.stringify(ec.publicKey.export({ format: 'jwk' }))),
    ).rejects.toThrow(/public JWK/);
  });

  it('CKPT-15 another key, an edited payload and a signed non-checkpoint are refused', async () => {
    const mine = await checkpointSigningKey(JSON.stringify((await generateCheckpointKey()).privateJwk));
    const theirs = await checkpointSigningKey(JSON.stringify((await generateCheckpointKey()).privateJwk));
    const verification = await checkpointVerificationKey(JSON.stringify(mine.publicJwk));
    const forged = await signCheckpoint(checkpoint, theirs);
    await expect(readCheckpoint(forged, verification)).rejects.toThrow(
      new RegExp(`signed by another key \\(kid ${theirs.kid}\\)`),
    );
    const [h, , s] = (await signCheckpoint(checkpoint, mine)).split('.');
    const edited = Buffer.from(JSON.stringify({ ...checkpoint, position: 2 })).toString('base64url');
    await expect(readCheckpoint(`${h}.${edited}.${s}`, verification)).rejects.toBeInstanceOf(
      CheckpointRejectedError,
    );
    const other = await new CompactSign(new TextEncoder().encode(JSON.stringify(checkpoint)))
      .setProtectedHeader({ alg: 'EdDSA', kid: mine.kid })
      .sign(mine.privateKey);
    await expect(readCheckpoint(other, verification)).rejects.toThrow(/not a checkpoint/);
    const bad = await signCheckpoint({ ...checkpoint, count: 9 }, mine);
    await expect(readCheckpoint(bad, verification)).rejects.toThrow(/count/);
  });
});

describe('checkpoints of the hash chain: the live chain held against them', () => {
  const positions = [1, 2, 3, 5, 6, 7, 8, 9, 10, 12];
  const events = chain(positions);
  const sources = checkpointsOf(events, [3, 7, 12]);

  it('CKPT-16 an untouched chain reaches every signed head', () => {
    expect(audit(sources, events)).toEqual({
      files: 3,
      checked: 3,
      ok: 3,
      firstRewritten: null,
      lastGoodPosition: null,
      problems: [],
    });
  });

  it('CKPT-17 a rewrite and a recompute: the first differing fingerprint names the rewritten event', () => {
    const live = recompute(events.map((e) => (e.globalPosition === 6 ? { ...e, data: { n: 'forged' } } : e)));
    const report = audit(sources, live);
    expect(report.checked).toBe(3);
    expect(report.ok).toBe(1);
    expect(report.firstRewritten).toEqual({ position: 6, eventId: live[4]!.eventId });
    expect(report.lastGoodPosition).toBe(5);
    expect(report.problems[0]).toMatchObject({ file: sources[1]!.file, kind: 'mismatch' });
  });

  it('CKPT-18 a removal and a recompute: fewer events than signed, named after the last good one', () => {
    const live = recompute(events.filter((e) => e.globalPosition !== 8));
    const report = audit(sources, live);
    expect(report.firstRewritten?.position).toBe(9);
    expect(report.lastGoodPosition).toBe(7);
    expect(report.problems[0]!.message).toContain('1 event(s) fewer than signed');
  });

  it('CKPT-19 the events at and after a checkpoint removed: the live chain ends before it', () => {
    const live = events.filter((e) => e.globalPosition <= 10);
    const report = audit(sources, live);
    expect(report.ok).toBe(2);
    expect(report.firstRewritten).toBeNull();
    expect(report.lastGoodPosition).toBe(10);
    expect(report.problems[0]!.message).toMatch(
      /live chain ends at position 10, before it.*removed after position 10/,
    );
  });

  it('CKPT-20 a file missing in the middle is named by the one after it; the others are still checked', () => {
    const report = audit([sources[0]!, sources[2]!], events);
    expect(report.checked).toBe(2);
    expect(report.ok).toBe(2);
    expect(report.problems).toEqual([
      expect.objectContaining({
        file: sources[2]!.file,
        kind: 'missing',
        message: expect.stringContaining('between positions 3 and 12'),
      }),
    ]);
  });

  it('CKPT-21 files pruned from the start by the operator are not a problem', () => {
    expect(audit(sources.slice(1), events).problems).toEqual([]);
  });
});
