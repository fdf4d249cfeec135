export * from './edge.js';
export * from './form.js';
export * from './json.js';
export * from './responses.js';
export * from './oauth-http.filter.js';
export * from './rpc.provider.js';
export * from './health.http.controller.js';
export * from './edge-app.js';
