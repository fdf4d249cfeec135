export * from './policy.js';
export * from './archive-format.js';
export * from './archive-files.js';
export * from './pg-retention.js';
export * from './candidate-scan.js';
export * from './pg-restore.js';
export * from './archived-chain.js';
export * from './retention-events.js';
