export * from './check-scope.js';
export * from './parse-form.js';
export * from './client-authentication.js';
export * from './metadata.js';
export * from './check-pkce.js';
export * from './source-address.js';
export * from './unicode.js';
export * from './parse-instant.js';
