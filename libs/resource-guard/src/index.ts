// Inside the monorepo (`#lib/resource-guard`): everything. Installed as a package, the same code
// is split in two entries (package.json `exports`): `.` is core.ts, `./nest` is nest.ts.
export * from './core.js';
export * from './nest.js';
