export * from './bearer-error.js';
export * from './extract-token.js';
export * from './scope.js';
export * from './options.js';
export * from './jwks-cache.js';
export * from './access-token-verifier.js';
export * from './nest.js';
