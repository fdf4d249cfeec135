export * from './config.js';
export * from './node-flags.js';
export * from './slices.js';
