export * from './nats-options.js';
export * from './rpc-client.js';
export * from './rpc-exception.filter.js';
export * from './dependencies.js';
export * from './log-levels.js';
export * from './bootstrap-service.js';
export * from './event-store.module.js';
export * from './transient-errors.js';
