export * from './grant.js';
export * from './grant-token.js';
