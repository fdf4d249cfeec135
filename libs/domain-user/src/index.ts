export * from './user.js';
export * from './password.js';
export * from './users.projection.js';
