export * from './client.js';
export * from './secret.js';
export * from './redirect-uri.js';
export * from './client-assertion.js';
export * from './throttle.js';
