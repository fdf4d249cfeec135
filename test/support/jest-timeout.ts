import { jest } from '@jest/globals';

// A system's start and stop (six processes, a database) outlast jest's 5 s default on a busy machine;
// the suites that start one get 30 s per test and hook (jest's per-project testTimeout is not applied
// to hooks run through jest-circus in this setup).
jest.setTimeout(30000);
