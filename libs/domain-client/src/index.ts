export * from './client.js';
export * from './secret.js';
export * from './redirect-uri.js';
export * from './client-assertion.js';
export * from './throttle.js';
export * from './rfc7591.js';
export * from './initial-access-token.js';
export * from './clients.projection.js';
