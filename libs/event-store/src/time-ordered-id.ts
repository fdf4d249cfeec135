import { randomFillSync } from 'node:crypto';

const POOL_IDS = 256;
const pool = Buffer.alloc(16 * POOL_IDS);
let next = POOL_IDS;

/**
 * A UUID version 7 (RFC 9562 §5.7): 48 bits of Unix time in milliseconds, then 74 random bits.
 * Ids made close in time sort close together, so a B-tree index over them (events.event_id,
 * streams keyed by a token's jti) takes new entries at its right edge instead of at random pages
 * across its whole size: inserts stay as cheap with 5 million rows as with 10 thousand.
 */
export function timeOrderedId(now = Date.now()): string {
  if (next === POOL_IDS) {
    randomFillSync(pool);
    next = 0;
  }
  const b = pool.subarray(next * 16, next * 16 + 16);
  next++;
  // RFC 9562 §5.7: unix_ts_ms (48 bits, big-endian), ver = 0b0111, rand_a, var = 0b10, rand_b.
  b.writeUIntBE(now, 0, 6);
  b[6] = (b[6]! & 0x0f) | 0x70;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const hex = b.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
