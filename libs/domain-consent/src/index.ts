export * from './consent.js';
export * from './login-throttle.js';
export * from './session.js';
export * from './sessions.projection.js';
export * from './logout.js';
export * from './logout-notification.js';
export * from './logout-notifications.projection.js';
