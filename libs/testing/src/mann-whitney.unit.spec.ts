import { mannWhitneyU } from './mann-whitney.js';

// Reference values: scipy.stats.mannwhitneyu(x, y, method='asymptotic') (scipy 1.17).
describe('mannWhitneyU (two-sided, normal approximation, tie and continuity corrections)', () => {
  it('separated samples', () => {
    const r = mannWhitneyU([1, 2, 3, 4, 5], [6, 7, 8, 9, 10]);
    expect(r.u).toBe(0);
    expect(r.p).toBeCloseTo(0.012185780355344813, 6);
  });

  it('samples with ties', () => {
    const r = mannWhitneyU([1, 2, 2, 3, 5, 8], [2, 3, 4, 4, 6, 9, 9]);
    expect(r.u).toBe(11.5);
    expect(r.p).toBeCloseTo(0.19419864661113362, 6);
  });

  it('interleaved samples', () => {
    const r = mannWhitneyU([1.1, 2.5, 3.3, 4.0, 5.2, 7.7, 8.1], [1.0, 2.4, 3.5, 4.1, 5.0, 7.9, 8.0]);
    expect(r.u).toBe(25);
    expect(r.p).toBeCloseTo(1, 6);
  });

  it('is symmetric in its samples and refuses an empty one', () => {
    const a = [3, 1, 4, 1, 5, 9, 2, 6];
    const b = [2, 7, 1, 8, 2, 8, 1, 8, 2];
    expect(mannWhitneyU(a, b).p).toBeCloseTo(0.9221926553135822, 6);
    expect(mannWhitneyU(a, b).p).toBeCloseTo(mannWhitneyU(b, a).p, 12);
    expect(() => mannWhitneyU([], [1])).toThrow();
  });
});
