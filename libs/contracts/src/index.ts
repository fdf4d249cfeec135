export * from './subjects.js';
export * from './messages.js';
export * from './consent-messages.js';
export * from './token-messages.js';
export * from './audit-messages.js';
export * from './resource-messages.js';
export * from './bus-permissions.js';
export * from './published-events.js';
