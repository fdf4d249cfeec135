export * from './oauth-error.js';
export * from './wire.js';
