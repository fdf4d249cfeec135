export * from './admin-authenticator.js';
export * from './jwks-source.js';
