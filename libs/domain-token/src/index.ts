export * from './access-token.js';
export * from './token-state.projection.js';
export * from './grants/grant-handler.js';
export * from './grants/client-credentials.grant.js';
export * from './grants/grant-registry.js';
export * from './introspection.js';
export * from './refresh-token.js';
export * from './grant-audit.js';
