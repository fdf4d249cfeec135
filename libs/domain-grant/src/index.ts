export * from './grant-events.js';
export * from './grant-state.js';
export * from './grant.js';
export * from './grant-token.js';
export * from './grant-decider.js';
export * from './open-id-facts.js';
