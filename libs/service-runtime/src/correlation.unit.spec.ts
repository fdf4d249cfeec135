import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { eventMetadata } from '#lib/contracts';
import { acceptCorrelationId, callerRequestIdOf, correlationIdOf } from './correlation.js';
import { inFlight } from './in-flight.js';
import { subjectLabel } from './metrics.js';

describe('correlation ids (issue 8)', () => {
  it('accepts a short plain id, first of several values, and refuses anything else', () => {
    expect(acceptCorrelationId('req-1.a:b_C')).toBe('req-1.a:b_C');
    expect(acceptCorrelationId(['abc', 'def'])).toBe('abc');
    expect(acceptCorrelationId('x'.repeat(128))).toBe('x'.repeat(128));
    expect(acceptCorrelationId('x'.repeat(129))).toBeUndefined();
    expect(acceptCorrelationId('has space')).toBeUndefined();
    expect(acceptCorrelationId('line\nbreak')).toBeUndefined();
    expect(acceptCorrelationId('')).toBeUndefined();
    expect(acceptCorrelationId(42)).toBeUndefined();
    expect(acceptCorrelationId(undefined)).toBeUndefined();
  });

  it("is read from a command's context only when well formed", () => {
    expect(correlationIdOf({ context: { correlationId: 'c-1' } })).toBe('c-1');
    expect(correlationIdOf({ context: { correlationId: 'bad\r\nid' } })).toBeUndefined();
    expect(correlationIdOf({ context: {} })).toBeUndefined();
    expect(correlationIdOf({})).toBeUndefined();
    expect(correlationIdOf(null)).toBeUndefined();
  });

  it("the caller's own id: X-Correlation-Id, else X-Request-Id, when well formed; else none", () => {
    expect(callerRequestIdOf({ 'x-correlation-id': 'a-1', 'x-request-id': 'b-2' })).toBe('a-1');
    expect(callerRequestIdOf({ 'x-correlation-id': 'bad id', 'x-request-id': 'b-2' })).toBe('b-2');
    expect(callerRequestIdOf({ 'x-request-id': 'x'.repeat(200) })).toBeUndefined();
    expect(callerRequestIdOf({})).toBeUndefined();
  });

  it("an event's metadata: the server's id, the caller's beside it when sent, and the actor", () => {
    expect(eventMetadata({ correlationId: 'c-1', callerRequestId: 'theirs' }, 'admin')).toEqual({
      correlationId: 'c-1',
      callerRequestId: 'theirs',
      actor: 'admin',
    });
    expect(eventMetadata({ correlationId: 'c-1' }, 'user:s')).toEqual({
      correlationId: 'c-1',
      actor: 'user:s',
    });
    expect(eventMetadata(undefined, 'system:token')).toEqual({ actor: 'system:token' });
  });

  // On Node 20 one enabled AsyncLocalStorage puts promise hooks on every promise of the process:
  // measured, a quarter of the token service's CPU per token (issue 9, docs/performance.md).
  it('travels explicitly: no service code holds an AsyncLocalStorage', () => {
    const root = resolve(import.meta.dirname, '../../..');
    const offenders: string[] = [];
    const walk = (dir: string) => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) walk(path);
        else if (/\.ts$/.test(entry.name) && !/\.spec\.ts$/.test(entry.name)) {
          if (
            /\bnew AsyncLocalStorage\b|['"](node:)?async_hooks['"]|\bcreateHook\s*\(/.test(
              readFileSync(path, 'utf8'),
            )
          )
            offenders.push(path);
        }
      }
    };
    for (const top of ['apps', 'libs']) walk(join(root, top));
    expect(offenders).toEqual([]);
  });
});

describe('metric labels and in-flight accounting (issue 8)', () => {
  it('drops the installation prefix from subjects', () => {
    expect(subjectLabel('authz.token.grant')).toBe('token.grant');
    expect(subjectLabel('e2e-x.client.authenticate')).toBe('client.authenticate');
    expect(subjectLabel('plain')).toBe('plain');
  });

  it('idle() resolves true when the last request ends, false at the timeout', async () => {
    expect(await inFlight.idle(10)).toBe(true);
    inFlight.begin();
    inFlight.begin();
    const waiting = inFlight.idle(1000);
    inFlight.end();
    setTimeout(() => inFlight.end(), 5);
    expect(await waiting).toBe(true);
    inFlight.begin();
    expect(await inFlight.idle(10)).toBe(false);
    inFlight.end();
    expect(inFlight.size).toBe(0);
  });
});
