export * from './client.js';
export * from './secret.js';
