export * from './user.js';
export * from './password.js';
export * from './users.projection.js';
export * from './password-checks.js';
