// Four suites (STYLE.md habit 13): unit = pure code, no I/O; int = real Postgres / NATS;
// e2e = the built system's processes driven over HTTP;
// faults = the built system under faults, load and hostile input.
const shared = {
  testEnvironment: 'node',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: {
    '^#lib/(.*)$': '<rootDir>/libs/$1/src/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  transform: {
    '^.+\\.ts$': ['ts-jest', { useESM: true, diagnostics: false }],
  },
};

export default {
  projects: [
    { ...shared, displayName: 'unit', testMatch: ['<rootDir>/{apps,libs}/**/*.unit.spec.ts'] },
    { ...shared, displayName: 'int', testMatch: ['<rootDir>/{apps,libs}/**/*.int.spec.ts'] },
    // A system's start and stop (six processes, a database) outlast jest's 5 s default on a busy machine.
    { ...shared, displayName: 'e2e', testMatch: ['<rootDir>/test/**/*.e2e.spec.ts'], testTimeout: 30000 },
    // Issue 10: fault injection under load and HTTP fuzzing (`npm run test:faults`, run by CI).
    {
      ...shared,
      displayName: 'faults',
      testMatch: ['<rootDir>/test/faults/**/*.faults.spec.ts'],
      testTimeout: 30000,
    },
    // The attacker's suite: each test performs an attack on the built system and expects the refusal.
    {
      ...shared,
      displayName: 'attacks',
      testMatch: ['<rootDir>/test/attacks/**/*.attack.spec.ts'],
      testTimeout: 30000,
    },
  ],
};
