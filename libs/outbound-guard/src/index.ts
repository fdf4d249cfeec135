export * from './address-policy.js';
export * from './outbound-fetch.js';
