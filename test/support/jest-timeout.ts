import { jest } from '@jest/globals';

// A system's start and stop (six processes, a database) outlast jest's 5 s default on a busy machine
// (a shared 2-core machine with other jobs took more than 30 s to start one); the suites that start
// one get 90 s per test and hook (jest's per-project testTimeout is not applied to hooks run through
// jest-circus in this setup).
jest.setTimeout(90000);
