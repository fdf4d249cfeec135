export * from './config.js';
export * from './node-flags.js';
