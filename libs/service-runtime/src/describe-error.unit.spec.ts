import { describeError } from './describe-error.js';

describe('describeError', () => {
  it('gives an Error its message, with the code of its cause', () => {
    expect(describeError(new Error('boom'))).toBe('boom');
    const refused = new TypeError('fetch failed', {
      cause: Object.assign(new Error('x'), { code: 'ECONNREFUSED' }),
    });
    expect(describeError(refused)).toBe('fetch failed (ECONNREFUSED)');
  });

  it('gives another object as JSON and anything else as text', () => {
    expect(describeError({ status: 'error', message: 'Internal server error' })).toBe(
      '{"status":"error","message":"Internal server error"}',
    );
    expect(describeError('no responders')).toBe('no responders');
    expect(describeError(undefined)).toBe('undefined');
  });

  it('keeps at most 200 characters', () => {
    expect(describeError(new Error('x'.repeat(500)))).toHaveLength(200);
    expect(describeError({ big: 'y'.repeat(500) })).toHaveLength(200);
  });
});
