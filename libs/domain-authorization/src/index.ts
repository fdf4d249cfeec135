export * from './check-authorization-request.js';
export * from './scope-descriptions.js';
export * from './transaction.js';
export * from './challenge-reuse.js';
export * from './check-authentication-request.js';
