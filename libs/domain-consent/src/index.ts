export * from './consent.js';
export * from './login-throttle.js';
