export * from './cipher.js';
export * from './data-keys.js';
export * from './personal-data-event-store.js';
