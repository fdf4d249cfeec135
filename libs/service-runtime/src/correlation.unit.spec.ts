import { acceptCorrelationId, currentCorrelationId, runWithCorrelation } from './correlation.js';
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

  it('is visible to asynchronous work started inside runWithCorrelation, and only there', async () => {
    expect(currentCorrelationId()).toBeUndefined();
    const seen = await runWithCorrelation('c-1', async () => {
      await new Promise((r) => setTimeout(r, 1));
      return currentCorrelationId();
    });
    expect(seen).toBe('c-1');
    expect(currentCorrelationId()).toBeUndefined();
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
